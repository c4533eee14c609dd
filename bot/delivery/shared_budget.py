"""One rate budget for several instances: Telegram's limits held across all of them, in Redis.

Each instance's own `RateLimiter` orders its requests (priorities, one per chat at a time) and
keeps it under the limits by itself; with `REDIS_URL` set, every request must also take a slot
in shared sliding windows (the global one, and the chat's), kept as sorted sets in Redis and
checked and taken in one Lua script, on Redis's clock, so instances on different machines agree.
A slot is held a little longer than the window (`margin`), for the time until Telegram counts
the request.
"""

from __future__ import annotations

import asyncio
import itertools
import os

from redis.asyncio import Redis

from bot.delivery.limiter import CHAT_BURST, GLOBAL_BURST, GROUP_BURST

# KEYS: the windows; ARGV: margin_ms, member, then (count, span_ms) per key.
# Returns {0, now_ms} when a slot was taken in every window, else {ms to wait, now_ms}.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local margin = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  local count = tonumber(ARGV[1 + 2 * i])
  local span = tonumber(ARGV[2 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - span)
  if redis.call('ZCARD', key) >= count then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    return {math.max(1, tonumber(oldest[2]) + span - now), now}
  end
end
for i, key in ipairs(KEYS) do
  local span = tonumber(ARGV[2 + 2 * i])
  redis.call('ZADD', key, now + margin, ARGV[2])
  redis.call('PEXPIRE', key, span + margin + 1000)
end
return {0, now}
"""


class SharedBudget:
    def __init__(
        self,
        redis_url: str,
        namespace: str,
        global_per_second: float,
        chat_per_second: float,
        group_per_minute: float,
        margin: float = 0.05,
    ) -> None:
        self.redis: Redis = Redis.from_url(redis_url)
        self.namespace = namespace
        self.global_window = (GLOBAL_BURST, GLOBAL_BURST / global_per_second)
        self.chat_window = (CHAT_BURST, CHAT_BURST / chat_per_second)
        self.group_window = (GROUP_BURST, GROUP_BURST * 60.0 / group_per_minute)
        self.margin_ms = int(margin * 1000)
        self._script = self.redis.register_script(_TAKE)
        self._ids = itertools.count()
        self._me = f"{os.getpid()}-{id(self)}"
        self.waits = 0  # times the shared budget made this instance wait

    async def acquire(self, chat_id: int) -> int:
        """Wait for a slot in the global window and the chat's, across every instance.

        Returns when the slot was taken, in ms on Redis's clock: the clock the windows are kept
        on, so the only one on which "never more than N in a window" can be checked exactly.
        """
        chat = self.group_window if chat_id < 0 else self.chat_window
        keys = [f"{self.namespace}:global", f"{self.namespace}:chat:{chat_id}"]
        args: list[int | str] = [self.margin_ms, ""]
        for count, span in (self.global_window, chat):
            args += [count, int(span * 1000)]
        while True:
            args[1] = f"{self._me}-{next(self._ids)}"
            wait_ms, now_ms = (int(v) for v in await self._script(keys=keys, args=args))
            if wait_ms == 0:
                return now_ms
            self.waits += 1
            await asyncio.sleep(wait_ms / 1000)

    async def close(self) -> None:
        await self.redis.aclose()
