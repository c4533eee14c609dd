"""Behaviour only PostgreSQL has: row locks that a second process skips instead of waiting for."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.db import create_session_factory
from bot.services.ordering import closing
from models import GroupBuy
from tests.databases import BACKEND
from tests.world import make_community, publish

pytestmark = pytest.mark.skipif(
    BACKEND != "postgresql",
    reason="PostgreSQL only: set TEST_DATABASE_URL=postgresql+asyncpg://… to run it",
)


async def test_a_closer_skips_an_item_another_process_holds(
    engine: AsyncEngine, session: AsyncSession, now: datetime
) -> None:
    await make_community(session, now)
    await publish(session, "/drop deadline=+1h\nEggs | 12\nMilk | 8", now)
    later = now + timedelta(hours=1)
    factory = create_session_factory(engine)
    async with factory() as holder:
        await holder.begin()
        held = await holder.scalar(select(GroupBuy).where(GroupBuy.number == 1).with_for_update())
        assert held is not None
        async with factory() as closer:
            # Does not wait for the lock: closes what it can, leaves the held item for later.
            closed = await asyncio.wait_for(closing.close_due(closer, later), 5)
        assert [c.number for c in closed] == [2]
        await holder.rollback()
    async with factory() as closer:
        assert [c.number for c in await closing.close_due(closer, later)] == [1]
