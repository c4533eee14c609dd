"""Deadlines close items by themselves, within seconds, also across restarts."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import timedelta

from sqlalchemy import update

from bot.db import create_engine, create_session_factory
from bot.services.kernel.clock import utcnow
from models import DropPost, PostState
from tests.e2e.conftest import RunningBot
from tests.e2e.story import CLOSED, Story


async def test_a_deadline_closes_the_item_within_seconds(story: Story) -> None:
    tg = story.tg
    await story.open_community()
    await story.start(story.alice)
    await story.post("/drop deadline=+2s min=1\nEggs | 12")
    await story.typed(story.alice, "/join 1", "No. 1")
    posted = time.monotonic()
    closed = await tg.wait_message(story.group, CLOSED, timeout=8)
    assert "Eggs formed" in closed.text
    await tg.wait_message(story.alice, "Your pickup code", timeout=5)
    assert time.monotonic() - posted < 6  # deadline was 2 s after posting


async def test_deadlines_missed_while_the_bot_was_down_close_at_start(story: Story) -> None:
    tg = story.tg
    await story.open_community()
    await story.start(story.alice)
    await story.post("/drop deadline=+2s min=1\nEggs | 12\nMilk | 8 | min=5")
    await story.typed(story.alice, "/join 1", "No. 1")
    await story.typed(story.alice, "/join 2", "No. 1")
    settings = story.runner.settings
    await story.runner.stop()

    await asyncio.sleep(2.5)  # the deadline passes while nothing runs
    assert not [m for m in tg.sent(story.group) if "Closed" in m.text]

    runner = RunningBot(settings, tg)
    await runner.start()
    try:
        closed = await tg.wait_message(story.group, CLOSED, timeout=5)
        assert "Eggs formed" in closed.text
        assert "Milk did not form" in closed.text
        result = await tg.wait_message(story.alice, "Your pickup code")
        assert re.search(r"\d{7}", result.text)
        assert "Did not form" in result.text
    finally:
        await runner.stop()


async def test_a_restarted_bot_wakes_at_future_deadlines_and_scheduled_posts(story: Story) -> None:
    tg = story.tg
    await story.open_community()
    await story.post("/drop deadline=+4s min=1\nEggs | 12")
    await story.typed(story.alice, "/join 1", "No. 1")
    drop_id = await story.draft("/drop deadline=+1h\nBread | 5")
    await story.privately(story.admin, f"/publish {drop_id} 23:59", "will be posted to 1 community")
    settings = story.runner.settings
    await story.runner.stop()

    # Pretend the scheduled post's time is two seconds from now (instead of 23:59).
    engine = create_engine(settings.database_url)
    async with create_session_factory(engine)() as session:
        await session.execute(
            update(DropPost)
            .where(DropPost.state == PostState.SCHEDULED)
            .values(post_at=utcnow() + timedelta(seconds=2))
        )
        await session.commit()
    await engine.dispose()

    runner = RunningBot(settings, tg)
    await runner.start()
    try:
        bread = await tg.wait_message(story.group, "Bread", timeout=6)
        assert bread.buttons, bread.text
        closed = await tg.wait_message(story.group, CLOSED, timeout=6)
        assert "Eggs formed" in closed.text
    finally:
        await runner.stop()
