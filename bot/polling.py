"""Long polling through the inbox (see services/inbox.py and bot/updates.py).

aiogram's own polling acknowledges a batch of updates as soon as it has them, so a crash while
handling loses what was in flight. Here each batch is stored first, and only then is the next
batch asked for (which is what acknowledges the previous one to Telegram). At start, whatever was
stored but not finished is handled first.

A normal stop (SIGINT/SIGTERM, or `stop()`) stops asking for updates, lets the handlers in flight
finish (up to `drain_seconds`), then shuts the bot down: the timekeeper stops and the sender
delivers what it can.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import TYPE_CHECKING

from aiogram.methods import GetUpdates
from aiogram.utils.backoff import Backoff, BackoffConfig

from bot.updates import UpdateRunner

if TYPE_CHECKING:
    from bot.app import TuanBot

log = logging.getLogger(__name__)

BACKOFF = BackoffConfig(min_delay=1.0, max_delay=30.0, factor=1.5, jitter=0.1)


class InboxPolling:
    def __init__(
        self,
        app: TuanBot,
        *,
        timeout: int = 10,
        drain_seconds: float = 10.0,
        concurrency: int = 200,
        finish_every: float = 0.5,
    ) -> None:
        self.app = app
        self.timeout = timeout
        self.runner = UpdateRunner(
            app, concurrency=concurrency, drain_seconds=drain_seconds, finish_every=finish_every
        )
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self, handle_signals: bool = True) -> None:
        bot, dispatcher = self.app.bot, self.app.dispatcher
        await bot.me()  # a rejected token or unreachable API fails here, before anything runs
        await bot.delete_webhook(drop_pending_updates=False)
        if handle_signals:
            stop_on_signals(self.stop)
        await dispatcher.emit_startup(bot=bot)
        self.runner.start()
        try:
            await self.runner.recover()
            await self._poll()
        finally:
            await self.runner.stop()
            await dispatcher.emit_shutdown(bot=bot)

    async def _poll(self) -> None:
        bot = self.app.bot
        allowed = self.app.dispatcher.resolve_used_update_types()
        backoff = Backoff(config=BACKOFF)
        offset: int | None = None
        stopping = asyncio.create_task(self._stopping.wait())
        try:
            while not self._stopping.is_set():
                request = GetUpdates(offset=offset, timeout=self.timeout, allowed_updates=allowed)
                fetch = asyncio.create_task(bot(request, request_timeout=self.timeout + 15))
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
                    log.warning("polling: %s; retrying in %.1fs", error, backoff.next_delay)
                    await backoff.asleep()
                    continue
                backoff.reset()
                if updates:
                    offset = updates[-1].update_id + 1  # stored: safe to acknowledge
                for update in updates:
                    if update.update_id in new:
                        self.runner.spawn(update)
        finally:
            stopping.cancel()


def stop_on_signals(stop: object) -> None:
    """Call `stop()` on SIGTERM and SIGINT (where the platform allows it)."""
    assert callable(stop)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop)
