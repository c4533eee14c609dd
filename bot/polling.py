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

from aiogram import Bot, Dispatcher
from aiogram.methods import GetUpdates
from aiogram.utils.backoff import Backoff, BackoffConfig

from bot.updates import UpdateRunner

log = logging.getLogger(__name__)

BACKOFF = BackoffConfig(min_delay=1.0, max_delay=30.0, factor=1.5, jitter=0.1)


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
                request = GetUpdates(offset=offset, timeout=self.timeout, allowed_updates=allowed)
                fetch = asyncio.create_task(self.bot(request, request_timeout=self.timeout + 15))
                done, _ = await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if fetch not in done:
                    fetch.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await fetch
                    break
                try:
                    updates = fetch.result()
                    new = await self.runner.store(updates)
                except Exception as error:  # Telegram or the database is away: try again
                    delay = next(backoff)
                    log.warning("polling: %s; retrying in %.1fs", error, delay)
                    await self._pause(delay)
                    continue
                backoff.reset()
                if updates:
                    offset = updates[-1].update_id + 1  # stored: safe to acknowledge
                for update in updates:
                    if update.update_id in new:
                        self.runner.spawn(update)
        finally:
            stopping.cancel()

    async def _pause(self, seconds: float) -> None:
        """Wait before trying again, but not past a stop."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._stopping.wait()
