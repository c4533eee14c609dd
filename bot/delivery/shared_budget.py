"""One rate budget for several instances: Telegram's limits held across all of them, in Redis.

Each instance's own `RateLimiter` orders its requests (priorities, one per chat at a time) and
keeps it under the limits by itself; with `REDIS_URL` set, every request must also take a slot
in shared sliding windows (the global one, and the chat's), kept as sorted sets in Redis and
checked and taken in one Lua script, on Redis's clock, so instances on different machines agree.

As in the local limiter, a slot counts from when Telegram's answer arrived (`settle`), the latest
moment Telegram can have counted the request, and until then it is held as in flight. A request
held up on its way (a busy event loop, a slow network) can therefore never make Telegram see two
windows' worth at once, and no margin is needed. A slot nobody settles (its instance died
mid-request) is let go `hold` seconds after its grant.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
from dataclasses import dataclass

from redis.asyncio import Redis

from bot.delivery.limiter import CHAT_BURST, GLOBAL_BURST, GROUP_BURST

log = logging.getLogger(__name__)

# KEYS: the windows; ARGV: hold_ms, member, then (count, span_ms) per key. A slot counts until its
# score plus the span; its score is its grant plus the hold while in flight, its answer once settled.
# Returns {0, now_ms} when a slot was taken in every window, else {ms to wait, now_ms}: the wait
# is at most a span, since a slot in flight may be settled (and freed) sooner than its score says.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local hold = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  local count = tonumber(ARGV[1 + 2 * i])
  local span = tonumber(ARGV[2 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - span)
  if redis.call('ZCARD', key) >= count then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    return {math.max(1, math.min(tonumber(oldest[2]) + span - now, span)), now}
  end
end
for i, key in ipairs(KEYS) do
  local span = tonumber(ARGV[2 + 2 * i])
  redis.call('ZADD', key, now + hold, ARGV[2])
  redis.call('PEXPIRE', key, span + hold + 1000)
end
return {0, now}
"""

# KEYS: the windows of a granted slot; ARGV: hold_ms, member, then span_ms per key.
# Telegram has answered, so it counted the request by now: the slot counts from now. Returns now.
_SETTLE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local hold = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[2])
  redis.call('PEXPIRE', key, tonumber(ARGV[2 + i]) + hold + 1000)
end
return now
"""


@dataclass(frozen=True)
class Slot:
    """A place taken in the shared windows, held until `settle` says when Telegram answered."""

    keys: tuple[str, ...]
    spans_ms: tuple[int, ...]
    member: str
    granted_ms: int  # on Redis's clock


class SharedBudget:
    def __init__(
        self,
        redis_url: str,
        namespace: str,
        global_per_second: float,
        chat_per_second: float,
        group_per_minute: float,
        hold: float = 10.0,
    ) -> None:
        self.redis: Redis = Redis.from_url(redis_url)
        self.namespace = namespace
        self.global_window = (GLOBAL_BURST, GLOBAL_BURST / global_per_second)
        self.chat_window = (CHAT_BURST, CHAT_BURST / chat_per_second)
        self.group_window = (GROUP_BURST, GROUP_BURST * 60.0 / group_per_minute)
        self.hold_ms = int(hold * 1000)  # a request in flight longer than this has died
        self._script = self.redis.register_script(_TAKE)
        self._settle = self.redis.register_script(_SETTLE)
        self._ids = itertools.count()
        self._me = f"{os.getpid()}-{id(self)}"
        self.waits = 0  # times the shared budget made this instance wait

    async def acquire(self, chat_id: int) -> Slot:
        """Wait for a slot in the global window and the chat's, across every instance; call
        `settle` with it once Telegram answered. Its `granted_ms` is on Redis's clock: the clock
        the windows are kept on, so the only one on which "never more than N in a window" can
        be checked exactly."""
        chat = self.group_window if chat_id < 0 else self.chat_window
        keys = (f"{self.namespace}:global", f"{self.namespace}:chat:{chat_id}")
        spans = tuple(int(span * 1000) for _, span in (self.global_window, chat))
        args: list[int | str] = [self.hold_ms, ""]
        for (count, _), span_ms in zip((self.global_window, chat), spans, strict=True):
            args += [count, span_ms]
        while True:
            member = f"{self._me}-{next(self._ids)}"
            args[1] = member
            wait_ms, now_ms = (int(v) for v in await self._script(keys=keys, args=args))
            if wait_ms == 0:
                return Slot(keys, spans, member, now_ms)
            self.waits += 1
            await asyncio.sleep(wait_ms / 1000)

    async def settle(self, slot: Slot) -> int | None:
        """Telegram answered the request: its slot counts from now. Returns now on Redis's
        clock, or None when Redis could not be reached (the slot is then let go `hold` seconds
        after its grant)."""
        try:
            return int(
                await self._settle(keys=slot.keys, args=[self.hold_ms, slot.member, *slot.spans_ms])
            )
        except Exception:
            log.exception("could not settle a slot in the shared budget")
            return None

    async def close(self) -> None:
        await self.redis.aclose()
