"""A broadcast's status message: several instances edit it as one would."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.db import create_session_factory
from bot.services.community import broadcasts
from tests.world import ADMIN, make_community


async def test_the_status_is_edited_once_per_change_and_never_within_the_gap(
    engine: AsyncEngine, session: AsyncSession, now: datetime
) -> None:
    await make_community(session, now)
    progress = await broadcasts.start(session, ADMIN, "Water is off tomorrow", now)
    await broadcasts.attach_status(session, progress.broadcast_id, 77)
    gap = timedelta(seconds=2.4)
    factory = create_session_factory(engine)

    async def claim(shown: str, at: datetime) -> bool:
        async with factory() as own:
            return await broadcasts.claim_status_edit(own, progress.broadcast_id, shown, at, gap)

    # Three instances see the same new figures at once: one of them edits.
    assert sorted(await asyncio.gather(*(claim("a", now) for _ in range(3)))) == [
        False,
        False,
        True,
    ]
    assert not await claim("b", now + timedelta(seconds=1))  # new figures, but within the gap
    assert not await claim("a", now + timedelta(seconds=5))  # past the gap, but unchanged
    assert await claim("b", now + timedelta(seconds=5))
    assert [p.broadcast_id for p in await broadcasts.in_progress(session)] == [
        progress.broadcast_id
    ]
