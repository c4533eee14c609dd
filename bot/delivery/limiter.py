"""Keeping under Telegram's rate limits, for every message the bot sends or edits.

Telegram allows about 30 messages a second overall, 1 a second to a private chat and 20 a minute
to a group, and answers 429 with `retry_after` beyond that. The limiter keeps a sliding window per
scope shaped like those limits (`SEND_RATE_*` scale them), so it can run right at the limit
without a 429. A request holds its place in a window while it is in flight, and its time in the
window is taken when Telegram's answer arrives, the latest moment Telegram can have counted it:
however the requests are delayed on the way, Telegram never sees more than a window allows.

- each chat's messages go one at a time, the most urgent first (a per-chat turnstile): in a
  group during a rush, a reply to a question (priority 0) goes before closing notices, which go
  before nudges and live-post edits; messages of one priority keep their order;
- the global window is handed out by priority the same way: a reply to a user's own command
  (priority 0, the default) overtakes queued pickup codes, which overtake broadcasts;
- a 429 pauses that chat for `retry_after`, then the request is tried again.

`Throttle` plugs it into aiogram's session as a request middleware.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType

log = logging.getLogger(__name__)

SlotT = TypeVar("SlotT")

# Telegram's documented shape: counts per window; the SEND_RATE_* settings set the speed.
GLOBAL_BURST = 30
CHAT_BURST = 1
GROUP_BURST = 20

LIMITED_METHODS = frozenset(
    {
        "sendMessage",
        "sendDocument",
        "sendPhoto",
        "sendMediaGroup",
        "sendVenue",
        "sendLocation",
        "copyMessage",
        "forwardMessage",
        "editMessageText",
        "editMessageReplyMarkup",
        "editMessageCaption",
    }
)

# The priority of requests made in the current task; lower goes first.
send_priority: ContextVar[int] = ContextVar("send_priority", default=0)


class Window:
    """At most `count` requests in any `span` seconds: those in flight, and those answered less
    than `span` ago."""

    def __init__(self, count: int, span: float) -> None:
        self.count = count
        # No safety margin is needed: a request enters the window when Telegram's answer came
        # back, which is always after Telegram counted it, whatever the clocks say.
        self.span = span
        self.times: deque[float] = deque()  # when recent requests were answered
        self.in_flight = 0
        self.paused_until = 0.0
        self.released = asyncio.Event()

    def wait(self, now: float) -> float | None:
        """Seconds until one more may go; None: when a request in flight is answered."""
        while self.times and self.times[0] <= now - self.span:
            self.times.popleft()
        wait = self.paused_until - now
        if len(self.times) + self.in_flight >= self.count:
            if not self.times:
                return None
            wait = max(wait, self.times[0] + self.span - now)
        return max(wait, 0.0)

    def take(self) -> None:
        self.in_flight += 1

    def done(self, now: float) -> None:
        self.in_flight -= 1
        self.times.append(now)
        self.released.set()

    async def until_free(self) -> None:
        while True:
            wait = self.wait(time.monotonic())
            if wait == 0:
                return
            if wait is None:
                self.released.clear()
                await self.released.wait()
            else:
                await asyncio.sleep(wait)


@dataclass
class LimiterStats:
    sent: int = 0
    retry_after: int = 0  # 429s received


@dataclass(order=True)
class _Waiter:
    priority: int
    seq: int
    ready: asyncio.Event = field(compare=False, default_factory=asyncio.Event)


class _Turnstile:
    """One holder at a time; when it leaves, the waiter of lowest (priority, seq) goes in."""

    def __init__(self) -> None:
        self.held = False
        self.waiting: list[_Waiter] = []

    @property
    def idle(self) -> bool:
        return not self.held and not self.waiting

    async def enter(self, priority: int, seq: int) -> None:
        if not self.held and not self.waiting:
            self.held = True
            return
        waiter = _Waiter(priority, seq)
        heapq.heappush(self.waiting, waiter)
        try:
            await waiter.ready.wait()
        except asyncio.CancelledError:
            if waiter.ready.is_set():
                self.leave()  # it was handed the turn as it was cancelled: pass it on
            else:
                self.waiting.remove(waiter)
                heapq.heapify(self.waiting)
            raise

    def leave(self) -> None:
        if self.waiting:
            heapq.heappop(self.waiting).ready.set()  # the turn passes on: still held
        else:
            self.held = False


class RateLimiter:
    def __init__(
        self, global_per_second: float, chat_per_second: float, group_per_minute: float
    ) -> None:
        self._global = Window(GLOBAL_BURST, GLOBAL_BURST / global_per_second)
        self._chat_span = CHAT_BURST / chat_per_second
        self._group_span = GROUP_BURST * 60.0 / group_per_minute
        self._chats: dict[int, Window] = {}
        self._turnstiles: dict[int, _Turnstile] = {}
        self._queue: list[_Waiter] = []
        self._seq = itertools.count()
        self._dispatcher: asyncio.Task[None] | None = None
        self.stats = LimiterStats()

    def _window(self, chat_id: int) -> Window:
        window = self._chats.get(chat_id)
        if window is None:
            window = (
                Window(GROUP_BURST, self._group_span)
                if chat_id < 0
                else Window(CHAT_BURST, self._chat_span)
            )
            self._chats[chat_id] = window
        return window

    @asynccontextmanager
    async def chat(self, chat_id: int, priority: int = 0) -> AsyncIterator[None]:
        """One request at a time per chat: the most urgent waiting goes next (lower first), and
        requests of one priority in the order they asked."""
        turnstile = self._turnstiles.get(chat_id)
        if turnstile is None:
            turnstile = self._turnstiles[chat_id] = _Turnstile()
        try:
            await turnstile.enter(priority, next(self._seq))
            yield
        finally:
            turnstile.leave()
            if turnstile.idle:
                del self._turnstiles[chat_id]

    def _prune(self, now: float) -> None:
        """Forget chats with nothing in their window, so memory stays flat with many chats."""
        idle = [
            chat_id
            for chat_id, window in self._chats.items()
            if window.wait(now) == 0
            and not window.times
            and not window.in_flight
            and chat_id not in self._turnstiles
        ]
        for chat_id in idle:
            del self._chats[chat_id]

    async def turn(self, chat_id: int, priority: int) -> None:
        """Wait until a message may go to `chat_id` now and count it in flight. Call inside
        `chat()`, and `done(chat_id)` once Telegram answered (or the request failed)."""
        window = self._window(chat_id)
        await window.until_free()
        await self._global_turn(priority)
        window.take()
        self.stats.sent += 1
        if self.stats.sent % 1000 == 0:
            self._prune(time.monotonic())

    def done(self, chat_id: int) -> None:
        now = time.monotonic()
        self._window(chat_id).done(now)
        self._global.done(now)

    def pause(self, chat_id: int, seconds: float) -> None:
        window = self._window(chat_id)
        window.paused_until = max(window.paused_until, time.monotonic() + seconds)

    async def _global_turn(self, priority: int) -> None:
        waiter = _Waiter(priority, next(self._seq))
        heapq.heappush(self._queue, waiter)
        if self._dispatcher is None or self._dispatcher.done():
            self._dispatcher = asyncio.create_task(self._dispatch(), name="rate-limiter")
        try:
            await waiter.ready.wait()
        except asyncio.CancelledError:
            if not waiter.ready.is_set():
                self._queue.remove(waiter)
                heapq.heapify(self._queue)
            raise

    async def _dispatch(self) -> None:
        """Hand the global window out to the most urgent waiter, one slot at a time."""
        while self._queue:
            await self._global.until_free()
            waiter = heapq.heappop(self._queue)
            self._global.take()
            waiter.ready.set()
        self._dispatcher = None

    async def close(self) -> None:
        if self._dispatcher is not None:
            self._dispatcher.cancel()


class SharedGate(Protocol[SlotT]):
    """Several instances' common budget: a slot before sending, settled once answered."""

    async def acquire(self, chat_id: int) -> SlotT: ...

    async def settle(self, slot: SlotT) -> object: ...


class Throttle(BaseRequestMiddleware):
    """aiogram request middleware: rate-limits sends and edits, and waits out 429s."""

    def __init__(
        self,
        limiter: RateLimiter,
        on_retry_after: Callable[[int, int], None] | None = None,
        max_retries: int = 5,
        shared: SharedGate[Any] | None = None,
    ) -> None:
        self.limiter = limiter
        self.shared = shared  # several instances: their common budget (delivery/shared_budget.py)
        self.on_retry_after = on_retry_after  # (chat_id, seconds): for the delivery log
        self.max_retries = max_retries

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        chat_id: Any = getattr(method, "chat_id", None)
        if method.__api_method__ not in LIMITED_METHODS or not isinstance(chat_id, int):
            return await make_request(bot, method)
        priority = send_priority.get()
        async with self.limiter.chat(chat_id, priority):
            attempt = 0
            while True:
                await self.limiter.turn(chat_id, priority)
                slot = None
                try:
                    if self.shared is not None:
                        slot = await self.shared.acquire(chat_id)
                    return await make_request(bot, method)
                except TelegramRetryAfter as error:
                    self.limiter.stats.retry_after += 1
                    if self.on_retry_after is not None:
                        self.on_retry_after(chat_id, error.retry_after)
                    attempt += 1
                    log.warning("429 for chat %s: waiting %ss", chat_id, error.retry_after)
                    if attempt > self.max_retries:
                        raise
                    self.limiter.pause(chat_id, error.retry_after)
                finally:
                    self.limiter.done(chat_id)
                    if slot is not None:
                        assert self.shared is not None
                        await self.shared.settle(slot)
