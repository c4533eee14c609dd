"""The per-person lock across instances: kept by a live handler, freed soon after a dead one."""

from __future__ import annotations

import asyncio
import time
import uuid

from aiogram.fsm.storage.base import StorageKey
from redis.asyncio import Redis

from bot.isolation import LeasedEventIsolation
from tests.test_shared_budget import REDIS_URL, redis_or_skip


def person() -> StorageKey:
    return StorageKey(bot_id=1, chat_id=-100, user_id=int(uuid.uuid4().int % 10**9))


async def test_a_live_handler_keeps_the_lock_beyond_its_lease() -> None:
    await redis_or_skip()
    isolation = LeasedEventIsolation.connect(REDIS_URL, lease=0.5, renew_every=0.15)
    key = person()
    order: list[str] = []

    async def slow_handler() -> None:
        async with isolation.lock(key):
            order.append("slow starts")
            await asyncio.sleep(1.5)  # three leases long
            order.append("slow ends")

    async def next_update() -> None:
        await asyncio.sleep(0.1)
        async with isolation.lock(key):
            order.append("next")

    try:
        await asyncio.gather(slow_handler(), next_update())
        assert order == ["slow starts", "slow ends", "next"]
    finally:
        await isolation.redis.aclose()


async def test_a_dead_instances_lock_is_free_after_the_lease() -> None:
    await redis_or_skip()
    isolation = LeasedEventIsolation.connect(REDIS_URL, lease=1.0, renew_every=0.3)
    key = person()
    # A killed instance took the lock and never released or renewed it.
    dead = Redis.from_url(REDIS_URL)
    await dead.lock(isolation.key_builder.build(key, "lock"), timeout=1.0).acquire()
    await dead.aclose()
    try:
        started = time.monotonic()
        async with isolation.lock(key):
            waited = time.monotonic() - started
        # Not aiogram's 60 s: about one lease (Redis expires the key after 1 s).
        assert 0.5 <= waited < 5, waited
    finally:
        await isolation.redis.aclose()
