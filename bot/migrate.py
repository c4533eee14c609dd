"""Bring the database schema up to date with the Alembic migrations in `models/migrations`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

import models
from bot.db import create_engine

MIGRATIONS = Path(models.__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        # ConfigParser treats % as interpolation; URLs may contain %-escapes.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@dataclass(frozen=True)
class SchemaState:
    current: str | None  # the database's revision; None: no schema yet
    head: str  # the newest migration this version has

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head

    @property
    def pending(self) -> int:
        """How many migrations starting the bot (or `migrate`) would apply."""
        script = ScriptDirectory.from_config(alembic_config())
        return sum(1 for _ in script.iterate_revisions(self.head, self.current))


async def schema_state(url: str) -> SchemaState:
    """Where the database stands against the migrations, without changing it (`check`)."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            current = await connection.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_revision()
            )
    finally:
        await engine.dispose()
    return SchemaState(current, head)


def upgrade(url: str, revision: str = "head") -> None:
    """For synchronous callers (the CLI): runs its own event loop."""
    command.upgrade(alembic_config(url), revision)


async def upgrade_engine(engine: AsyncEngine, revision: str = "head") -> None:
    """For callers already inside an event loop (start-up, tests)."""
    await _run(engine, "upgrade", revision)


async def downgrade_engine(engine: AsyncEngine, revision: str) -> None:
    await _run(engine, "downgrade", revision)


async def _run(engine: AsyncEngine, direction: str, revision: str) -> None:
    async with engine.connect() as connection:

        def run(sync_connection: object) -> None:
            config = alembic_config()
            config.attributes["connection"] = sync_connection
            getattr(command, direction)(config, revision)

        await connection.run_sync(run)
        await connection.commit()
