"""Long polling through the inbox (see services/kernel/inbox.py and bot/updates.py).

aiogram's own polling acknowledges a batch of updates as soon as it has them, so a crash while
handling loses what was in flight. Here each batch is stored first, and only then is the next
batch asked for (which is what acknowledges the previous one to Telegram). At start, whatever was
stored but not finished is handled first.

A normal stop (`stop()`, which the app calls on SIGINT/SIGTERM) stops asking for updates, lets
the handlers in flight finish (up to the runner's `drain_seconds`), then shuts the bot down: the
timekeeper stops and the sender delivers what it can.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.methods import TelegramMethod
from aiogram.utils.backoff import Backoff, BackoffConfig

from bot.updates import UpdateRunner, update_id

log = logging.getLogger(__name__)

BACKOFF = BackoffConfig(min_delay=1.0, max_delay=30.0, factor=1.5, jitter=0.1)


class GetUpdatesAsSent(TelegramMethod[list[dict[str, Any]]]):
    """Bot API getUpdates, its updates left as the JSON objects Telegram sent: the inbox keeps
    them as they are, and the runner reads each into aiogram's Update on its own (one it cannot
    read must not make the whole batch unreadable, asked for again and again)."""

    __returning__ = list[dict[str, Any]]
    __api_method__ = "getUpdates"

    offset: int | None = None
    timeout: int | None = None
    allowed_updates: list[str] | None = None


class InboxPolling:
    def __init__(
        self, bot: Bot, dispatcher: Dispatcher, runner: UpdateRunner, *, timeout: int = 10
    ) -> None:
        self.bot = bot
        self.dispatcher = dispatcher
        self.runner = runner
        self.timeout = timeout
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        bot, dispatcher = self.bot, self.dispatcher
        await bot.me()  # a rejected token or unreachable API fails here, before anything runs
        await bot.delete_webhook(drop_pending_updates=False)
        await dispatcher.emit_startup(bot=bot)
        self.runner.start()
        try:
            await self.runner.recover()
            await self._poll()
        finally:
            await self.runner.stop()
            await dispatcher.emit_shutdown(bot=bot)

    async def _poll(self) -> None:
        allowed = self.dispatcher.resolve_used_update_types()
        backoff = Backoff(config=BACKOFF)
        offset: int | None = None
        stopping = asyncio.create_task(self._stopping.wait())
        try:
            while not self._stopping.is_set():
                request = GetUpdatesAsSent(
                    offset=offset, timeout=self.timeout, allowed_updates=allowed
                )
                fetch = asyncio.create_task(self.bot(request, request_timeout=self.timeout + 15))
                done, _ = await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if fetch not in done:
                    fetch.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await fetch
                    break
                try:
                    updates = _updates(fetch.result())
                    new = await self.runner.store(updates)
                except Exception as error:  # Telegram or the database is away: try again
                    delay = next(backoff)
                    log.warning("polling: %s; retrying in %.1fs", error, delay)
                    await self._pause(delay)
                    continue
                backoff.reset()
                if updates:
                    offset = max(u["update_id"] for u in updates) + 1  # stored: acknowledge
                for update in updates:
                    if update["update_id"] in new:
                        self.runner.take(update)
        finally:
            stopping.cancel()

    async def _pause(self, seconds: float) -> None:
        """Wait before trying again, but not past a stop."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._stopping.wait()


def _updates(received: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What Telegram sent that has an update_id (all it sends has one; anything else is noted
    and dropped, as nothing can store or acknowledge it)."""
    updates = [u for u in received if update_id(u) is not None]
    if len(updates) < len(received):
        log.warning("polling: dropped %d items without an update_id", len(received) - len(updates))
    return updates
