"""Shared fixtures: a real, migrated database per test (SQLite, or PostgreSQL if configured)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.db import create_engine, create_session_factory
from bot.services.kernel.effects import EffectBus, Effects
from tests.databases import BACKEND, DatabaseFactory


def pytest_report_header() -> str:
    return f"tuanbot database backend: {BACKEND}"


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(Path(tmp_path_factory.mktemp("databases")))
    factory.prepare()
    yield factory
    factory.close()


@pytest.fixture
async def database_url(databases: DatabaseFactory) -> AsyncIterator[str]:
    url = await databases.new()
    yield url
    await databases.drop(url)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def committed() -> list[Effects]:
    """The effects of every unit of work the `session` committed, in order."""
    return []


@pytest.fixture
async def session(engine: AsyncEngine, committed: list[Effects]) -> AsyncIterator[AsyncSession]:
    bus = EffectBus()
    bus.subscribe(committed.append)
    async with create_session_factory(engine, bus)() as session:
        yield session


@pytest.fixture
def now() -> datetime:
    """A fixed instant: 2026-11-24 10:00 in Shanghai."""
    return datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
