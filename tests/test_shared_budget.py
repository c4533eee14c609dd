"""Two instances sharing one rate budget in Redis never exceed the limit together."""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from bot.delivery.shared_budget import SharedBudget

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


async def redis_or_skip() -> None:
    client = Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except (RedisConnectionError, OSError):
        pytest.skip(f"needs Redis at {REDIS_URL} (set TEST_REDIS_URL)")
    finally:
        await client.aclose()


def busiest(granted_ms: list[int], span_ms: int) -> int:
    """The most grants in any half-open window [t, t + span) that starts at a grant."""
    granted_ms = sorted(granted_ms)
    return max(sum(1 for t in granted_ms if start <= t < start + span_ms) for start in granted_ms)


async def test_two_instances_together_stay_within_the_global_window() -> None:
    await redis_or_skip()
    namespace = f"test:{uuid.uuid4().hex}"
    # 300 messages a second overall: 30 in any 0.1 s. 1 a second per private chat.
    budgets = [SharedBudget(REDIS_URL, namespace, 300, 1, 20) for _ in range(2)]
    # Grants are checked on Redis's clock, the one the windows are kept on: on a busy machine the
    # client's event loop can see replies from two windows arrive together.
    granted: list[int] = []

    async def send(budget: SharedBudget, chat_id: int) -> None:
        slot = await budget.acquire(chat_id)
        granted.append(slot.granted_ms)
        await budget.settle(slot)  # Telegram answered at once

    try:
        await asyncio.gather(
            *(send(budgets[n % 2], 1000 + n) for n in range(150)),
        )
        assert len(granted) == 150
        assert busiest(granted, 100) <= 30, busiest(granted, 100)
        # 150 grants at 30 per 0.1 s cannot take less than 0.4 s.
        assert max(granted) - min(granted) >= 400
        assert sum(b.waits for b in budgets) > 0  # the budget really held them back

        # One private chat: one message per second between both instances.
        first = await budgets[0].acquire(42)
        await budgets[0].settle(first)
        second = await budgets[1].acquire(42)
        assert second.granted_ms - first.granted_ms >= 1000
    finally:
        for budget in budgets:
            await budget.close()


async def test_a_slot_counts_from_when_telegram_answered() -> None:
    await redis_or_skip()
    namespace = f"test:{uuid.uuid4().hex}"
    # 5 messages a second to a private chat (one per 0.2 s); the global window is wide open.
    first, second = (SharedBudget(REDIS_URL, namespace, 1000, 5, 20) for _ in "ab")
    try:
        slot = await first.acquire(42)
        # The other instance asks for the same chat while the first request is slow on its
        # way, longer than a window: it must wait for the answer, then a whole window more.
        waiting = asyncio.create_task(second.acquire(42))
        await asyncio.sleep(0.5)
        assert not waiting.done()  # in flight, the slot is held
        answered = await first.settle(slot)
        assert answered is not None
        assert answered - slot.granted_ms >= 500
        after = await waiting
        assert after.granted_ms - answered >= 200  # Telegram never sees the two closer
    finally:
        await first.close()
        await second.close()
