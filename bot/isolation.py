"""One update per chat and user at a time across instances, with a lock a dead instance cannot keep.

aiogram's RedisEventIsolation holds each (chat, user) lock for up to 60 s: when an instance is
killed in the middle of a handler, that person's next updates — including the ones the others take
over from the dead instance — wait out the full minute. Here the lock is a short lease that its
holder renews while the handler runs, so a live handler keeps it however long it takes, and a
dead instance's lock is free within `lease` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator

from aiogram.fsm.storage.base import DefaultKeyBuilder, KeyBuilder, StorageKey
from aiogram.fsm.storage.redis import RedisEventIsolation
from redis.asyncio import Redis
from redis.asyncio.lock import Lock
from redis.exceptions import LockError

log = logging.getLogger(__name__)


class LeasedEventIsolation(RedisEventIsolation):
    def __init__(
        self,
        redis: Redis,
        key_builder: KeyBuilder | None = None,
        *,
        lease: float = 10.0,
        renew_every: float = 3.0,
    ) -> None:
        super().__init__(redis, key_builder)
        self.lease = lease
        self.renew_every = renew_every

    @classmethod
    def connect(
        cls, url: str, *, lease: float = 10.0, renew_every: float = 3.0
    ) -> LeasedEventIsolation:
        key_builder = DefaultKeyBuilder(with_bot_id=True)
        return cls(Redis.from_url(url), key_builder, lease=lease, renew_every=renew_every)

    @contextlib.asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        name = self.key_builder.build(key, "lock")
        async with self.redis.lock(name, timeout=self.lease, sleep=0.05, lock_class=Lock) as held:
            keeper = asyncio.create_task(self._keep(held), name=f"lease {name}")
            try:
                yield None
            finally:
                keeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await keeper

    async def _keep(self, held: Lock) -> None:
        while True:
            await asyncio.sleep(self.renew_every)
            try:
                await held.reacquire()  # the lease starts again from now
            except LockError:
                log.warning("lost the lock %s while handling an update", held.name)
                return
