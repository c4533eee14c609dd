"""Three instances in webhook mode on PostgreSQL and Redis, one killed (SIGKILL) in the middle of
a burst of joins: every join counted once, the item closed once, every code sent once, and the
three together within Telegram's limits."""

from __future__ import annotations

import asyncio
import re
import signal

import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select

from bot.db import create_engine, create_session_factory
from models import Order, OrderState
from tests.databases import BACKEND
from tests.e2e.story import Story
from tests.fakegram import FakeTelegram, Limits
from tests.instances import bot_env, free_port, start_webhook_instance
from tests.test_shared_budget import REDIS_URL, redis_or_skip

pytestmark = pytest.mark.skipif(
    BACKEND != "postgresql",
    reason="several instances need PostgreSQL: set TEST_DATABASE_URL=postgresql+asyncpg://…",
)

BUYERS = 240
SPEED = 2  # Telegram's limits twice as fast, for all three instances together
SECRET = "three-instances"


async def confirmed_orders(database_url: str) -> int:
    engine = create_engine(database_url)
    async with create_session_factory(engine)() as session:
        count = await session.scalar(
            select(func.count()).select_from(Order).where(Order.state == OrderState.CONFIRMED)
        )
    await engine.dispose()
    return int(count or 0)


async def test_three_instances_with_one_killed_do_everything_once(database_url: str) -> None:
    await redis_or_skip()
    client = Redis.from_url(REDIS_URL)
    await client.flushdb()  # no dialog or rate window left over from an earlier run
    await client.aclose()
    telegram = FakeTelegram(limits=Limits().scaled(SPEED))
    await telegram.start()
    story = Story(telegram)
    buyers = [telegram.user(f"Buyer {n}") for n in range(BUYERS)]
    for buyer in buyers:
        buyer.started = True
        story.group.members.add(buyer.id)
    ports = [free_port() for _ in range(3)]
    env = bot_env(
        telegram,
        database_url,
        story.admin.id,
        SPEED,
        REDIS_URL=REDIS_URL,
        WEBHOOK_URL="https://tuanbot.example/telegram/hook",
        WEBHOOK_SECRET=SECRET,
        WEBHOOK_HOST="127.0.0.1",
    )
    # The load balancer: Telegram's posts go to the three instances in turn.
    telegram.balance(*(f"http://127.0.0.1:{port}/telegram/hook" for port in ports))
    instances = [await start_webhook_instance(env, port) for port in ports]
    try:
        await telegram.wait_for(lambda: telegram.webhook_url is not None, timeout=30)
        await story.open_community()
        post = await story.post("/drop min=1\nEggs | 12")

        queries = [await telegram.click(buyer, post, "#1") for buyer in buyers]
        await telegram.wait_for(lambda: sum(q.answered for q in queries) >= BUYERS // 3, timeout=60)
        instances[0].send_signal(signal.SIGKILL)  # mid-burst
        await instances[0].wait()
        telegram.balance(*(f"http://127.0.0.1:{port}/telegram/hook" for port in ports[1:]))
        # What the dead instance had stored and not finished is taken over once its leases (the
        # stored update's and the person's lock, 10 s each) run out: well within the minute.
        await telegram.wait_for(lambda: all(q.answered for q in queries), timeout=60)
        assert await confirmed_orders(database_url) == 0  # not closed yet
        joined = sorted(
            int(m.group(1)) for q in queries if (m := re.search(r"No\. (\d+)", q.answer_text or ""))
        )
        assert joined == list(range(1, BUYERS + 1))  # every join counted once, numbered once

        await story.ask(story.leader, "/close 1", "formed")
        await telegram.wait_for(
            lambda: all(
                any("Your pickup code" in m.text for m in telegram.sent(b)) for b in buyers
            ),
            timeout=120,
        )
        await telegram.idle(quiet=2.0, timeout=30)
        assert await confirmed_orders(database_url) == BUYERS
        codes = [[m for m in telegram.sent(b) if "Your pickup code" in m.text] for b in buyers]
        assert all(len(found) == 1 for found in codes)  # every code sent once
        closed = [m for m in telegram.sent(story.group) if "Eggs formed" in m.text]
        assert len(closed) == 1  # the item closed once
        assert not [r for r in telegram.requests if r.status == 429]  # one budget for all three
    finally:
        for process in instances:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        for process in instances:
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
                await process.wait()
        await telegram.stop()
