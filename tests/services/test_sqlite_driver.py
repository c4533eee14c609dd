"""SQLite on the event loop's thread (bot/sqlite_driver.py): statements run there, but waiting for
another process's write lock never does, and every kind of SQLAlchemy connection still works."""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
import threading
import time
from datetime import datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.services.community import people
from bot.services.community.people import Profile
from models import User
from tests.databases import BACKEND

pytestmark = pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite's own driver")

HELD = 1.0  # seconds another process keeps the write lock


def _hold_write_lock(path: str, taken: threading.Event) -> None:
    """Another process's writer (a connection of its own, in a thread of its own)."""
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        taken.set()
        time.sleep(HELD)
        other.execute("COMMIT")
    finally:
        other.close()


async def test_a_writer_waiting_for_another_process_lock_does_not_stop_the_loop(
    engine: AsyncEngine, session: AsyncSession, now: datetime
) -> None:
    path = make_url(str(engine.url)).database
    assert path
    taken = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(path, taken))
    holder.start()
    await asyncio.to_thread(taken.wait)
    ticks: list[float] = []

    async def tick() -> None:
        while True:
            ticks.append(time.monotonic())
            await asyncio.sleep(0.05)

    ticking = asyncio.create_task(tick())
    started = time.monotonic()
    saved = await people.save_profile_now(
        session, Profile(id=42, first_name="Rosa", language_code="zh"), now
    )
    waited = time.monotonic() - started
    ticking.cancel()
    await asyncio.to_thread(holder.join)

    assert waited >= HELD * 0.5  # it did wait for the other writer...
    gaps = [later - earlier for earlier, later in itertools.pairwise(ticks)]
    assert len(ticks) >= 8 and max(gaps) < 0.5  # ...while the loop went on with other work
    assert saved.id == 42
    assert await session.scalar(select(User.first_name).where(User.id == 42)) == "Rosa"


async def test_core_connections_and_plain_sql_work(engine: AsyncEngine) -> None:
    # SQLAlchemy's async Core connection refuses a call that awaited nothing: each must count.
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO users (id, first_name, started_at, created_at) VALUES (7, 'Sam', NULL, :t)"
            ),
            {"t": datetime(2026, 12, 1)},
        )
    async with engine.connect() as connection:
        assert (
            await connection.execute(text("SELECT first_name FROM users WHERE id = 7"))
        ).scalar() == "Sam"
        failed = connection.execute(text("SELECT id FROM nowhere"))
        with pytest.raises(OperationalError, match="no such table"):
            await failed
