"""Two instances sharing one rate budget in Redis never exceed the limit together."""

from __future__ import annotations

import asyncio
import os
import time
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


async def test_two_instances_together_stay_within_the_global_window() -> None:
    await redis_or_skip()
    namespace = f"test:{uuid.uuid4().hex}"
    # 300 messages a second overall: 30 in any 0.1 s. 1 a second per private chat.
    budgets = [SharedBudget(REDIS_URL, namespace, 300, 1, 20, margin=0.0) for _ in range(2)]
    granted: list[float] = []

    async def send(budget: SharedBudget, chat_id: int) -> None:
        await budget.acquire(chat_id)
        granted.append(time.monotonic())

    try:
        await asyncio.gather(
            *(send(budgets[n % 2], 1000 + n) for n in range(150)),
        )
        assert len(granted) == 150
        granted.sort()
        busiest = max(sum(1 for t in granted if start <= t < start + 0.095) for start in granted)
        assert busiest <= 30, busiest
        assert sum(b.waits for b in budgets) > 0  # the budget really held them back

        # One private chat: one message per second between both instances.
        chat_grants: list[float] = []

        async def to_one_chat(budget: SharedBudget) -> None:
            await budget.acquire(42)
            chat_grants.append(time.monotonic())

        await asyncio.gather(to_one_chat(budgets[0]), to_one_chat(budgets[1]))
        assert abs(chat_grants[1] - chat_grants[0]) >= 0.9
    finally:
        for budget in budgets:
            await budget.close()
