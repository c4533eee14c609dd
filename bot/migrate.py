"""Bring the database schema up to date with the Alembic migrations in `models/migrations`."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine

import models

MIGRATIONS = Path(models.__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        # ConfigParser treats % as interpolation; URLs may contain %-escapes.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


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
