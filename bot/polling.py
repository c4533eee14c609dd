"""Long polling through the inbox (see services/inbox.py).

aiogram's own polling acknowledges a batch of updates as soon as it has them, so a crash while
handling loses what was in flight. Here each batch is stored first, and only then is the next
batch asked for (which is what acknowledges the previous one to Telegram). Updates are handled
concurrently, each under its inbox mark, so a repeat has its effect once; at start, whatever was
stored but not handled is handled first.

A normal stop (SIGINT/SIGTERM, or `stop()`) stops asking for updates, lets the handlers in flight
finish (up to `drain_seconds`), then shuts the bot down: the timekeeper stops and the sender
delivers what it can.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import TYPE_CHECKING, Any

from aiogram.methods import GetUpdates
from aiogram.types import Update
from aiogram.utils.backoff import Backoff, BackoffConfig

from bot.services import inbox
from bot.services.clock import utcnow
from bot.services.uow import UpdateMark, current_update

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
        self.drain_seconds = drain_seconds
        self.finish_every = finish_every
        self._slots = asyncio.Semaphore(concurrency)
        self._stopping = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._finished: list[int] = []  # handled without a marking transaction: marked in batches

    def stop(self) -> None:
        self._stopping.set()

    async def run(self, handle_signals: bool = True) -> None:
        bot, dispatcher = self.app.bot, self.app.dispatcher
        await bot.me()  # a rejected token or unreachable API fails here, before anything runs
        await bot.delete_webhook(drop_pending_updates=False)
        if handle_signals:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                with contextlib.suppress(NotImplementedError):
                    loop.add_signal_handler(sig, self.stop)
        await dispatcher.emit_startup(bot=bot)
        finisher = asyncio.create_task(self._finish_marks(), name="inbox-finisher")
        try:
            await self._recover()
            await self._poll()
        finally:
            await self._drain()
            finisher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await finisher
            await self._flush_marks()
            await dispatcher.emit_shutdown(bot=bot)

    async def _recover(self) -> None:
        async with self.app.session_factory() as session:
            stored = await inbox.unhandled(session)
        if stored:
            log.info("handling %d updates stored before the last stop", len(stored))
        for _, payload in stored:
            self._spawn(Update.model_validate(payload, context={"bot": self.app.bot}))

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
                    new = await self._store(updates)
                except Exception as error:  # Telegram or the database is away: try again
                    log.warning("polling: %s; retrying in %.1fs", error, backoff.next_delay)
                    await backoff.asleep()
                    continue
                backoff.reset()
                if updates:
                    offset = updates[-1].update_id + 1  # stored: safe to acknowledge
                for update in updates:
                    if update.update_id in new:
                        self._spawn(update)
        finally:
            stopping.cancel()

    async def _store(self, updates: list[Update]) -> set[int]:
        if not updates:
            return set()
        payloads: list[tuple[int, dict[str, Any]]] = [
            (u.update_id, u.model_dump(mode="json", exclude_none=True, by_alias=True))
            for u in updates
        ]
        async with self.app.session_factory() as session:
            return await inbox.record(session, payloads, utcnow())

    def _spawn(self, update: Update) -> None:
        task = asyncio.create_task(self._handle(update))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _handle(self, update: Update) -> None:
        async with self._slots:
            mark = UpdateMark(update.update_id)
            token = current_update.set(mark)
            try:
                await self.app.dispatcher.feed_update(self.app.bot, update)
            except Exception:
                log.exception("update %s failed", update.update_id)
            finally:
                current_update.reset(token)
                if not mark.handled:
                    self._finished.append(update.update_id)

    async def _drain(self) -> None:
        if self._tasks:
            log.info("finishing %d updates in flight", len(self._tasks))
            _, pending = await asyncio.wait(self._tasks, timeout=self.drain_seconds)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def _finish_marks(self) -> None:
        while True:
            await asyncio.sleep(self.finish_every)
            await self._flush_marks()

    async def _flush_marks(self) -> None:
        if not self._finished:
            return
        done, self._finished = self._finished, []
        try:
            async with self.app.session_factory() as session:
                await inbox.mark_handled(session, done, utcnow())
        except Exception:
            log.exception("could not mark updates handled; they may be handled again")
