"""The Alembic migrations: reversible step by step, and exactly the schema the models describe."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.migrate import alembic_config, downgrade_engine, upgrade_engine
from models import Base


def revisions() -> list[str]:
    script = ScriptDirectory.from_config(alembic_config())
    return [r.revision for r in reversed(list(script.walk_revisions("base", "heads")))]


async def tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    return set(names) - {"alembic_version"}


async def test_stairway_every_revision_goes_down_and_up_again(engine: AsyncEngine) -> None:
    await downgrade_engine(engine, "base")
    assert await tables(engine) == set()
    for revision in revisions():
        await upgrade_engine(engine, revision)
        await downgrade_engine(engine, "-1")
        await upgrade_engine(engine, revision)
    assert await tables(engine) == set(Base.metadata.tables)


async def test_models_and_migrations_describe_the_same_schema(engine: AsyncEngine) -> None:
    def differences(sync: Any) -> list[Any]:
        context = MigrationContext.configure(sync, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with engine.connect() as connection:
        diff = await connection.run_sync(differences)
    assert diff == [], "the models changed: generate a migration (see README, Development)"
