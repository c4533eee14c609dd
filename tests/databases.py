"""Fresh, migrated databases for tests: SQLite files, or PostgreSQL when TEST_DATABASE_URL is set.

Migrating once and copying is much faster than migrating per test: SQLite copies a template
file; PostgreSQL clones a template database (`CREATE DATABASE … TEMPLATE …`).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from bot.migrate import upgrade

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "").strip()
BACKEND = "postgresql" if TEST_DATABASE_URL else "sqlite"


def _admin_dsn(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


async def _pg_admin(url: URL, *statements: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(_admin_dsn(url))
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


class DatabaseFactory:
    """Hands out one new database URL per call; `close()` removes them all."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.created: list[str] = []
        self.template: str | None = None

    def prepare(self) -> None:
        if BACKEND == "sqlite":
            path = self.workdir / "template.sqlite3"
            upgrade(f"sqlite+aiosqlite:///{path}")
            self.template = str(path)
        else:
            base = make_url(TEST_DATABASE_URL)
            name = f"tuanbot_tpl_{uuid.uuid4().hex[:10]}"
            asyncio.run(_pg_admin(base, f'CREATE DATABASE "{name}"'))
            upgrade(base.set(database=name).render_as_string(hide_password=False))
            self.template = name

    async def new(self) -> str:
        assert self.template is not None
        if BACKEND == "sqlite":
            path = self.workdir / f"db-{uuid.uuid4().hex[:12]}.sqlite3"
            shutil.copyfile(self.template, path)
            return f"sqlite+aiosqlite:///{path}"
        base = make_url(TEST_DATABASE_URL)
        name = f"tuanbot_t_{uuid.uuid4().hex[:12]}"
        await _pg_admin(base, f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        self.created.append(name)
        return base.set(database=name).render_as_string(hide_password=False)

    async def drop(self, url: str) -> None:
        if BACKEND == "sqlite":
            return
        name = make_url(url).database
        await _pg_admin(
            make_url(TEST_DATABASE_URL), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
        )
        if name in self.created:
            self.created.remove(name)

    def close(self) -> None:
        if BACKEND == "postgresql" and self.template:
            names = [*self.created, self.template]
            asyncio.run(
                _pg_admin(
                    make_url(TEST_DATABASE_URL),
                    *(f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)' for n in names),
                )
            )
