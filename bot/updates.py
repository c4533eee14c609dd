"""Handling stored updates: concurrently, each under its inbox mark, one person's in order.

Polling (bot/polling.py) and the webhook (bot/webhook.py) both store an update in the inbox
before Telegram is told it arrived, then hand it here. The inbox keeps each update as Telegram
sent it; it is read into aiogram's `Update` here, one by one, so one update aiogram cannot read
(a newer Bot API's field in a shape it refuses, say) is logged and set aside while the rest,
before and after it, are handled.

Updates are handled side by side, but one person's updates in one chat in the order they were
sent: a dialog's answers typed quickly, or /join then /cancel, must not overtake each other; a
burst of joins is many people, so it still runs in parallel. Updates whose handlers ran to the
end are marked finished in batches.

Recovery: whatever was stored and not finished (a crash, a killed instance) is claimed and handled
here — at start, and with several instances every `sweep` seconds, once it is older than
`stale_after` (a claim renews its age, so two instances never take the same update). With
several instances the runner also renews the age of the updates it holds every `heartbeat`
seconds, so only a dead instance's updates grow stale, however long a handler waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.kernel import inbox
from bot.services.kernel.clock import utcnow
from bot.services.kernel.uow import handling

log = logging.getLogger(__name__)


class UpdateRunner:
    def __init__(
        self,
        bot: Bot,
        dispatcher: Dispatcher,
        session_factory: async_sessionmaker[AsyncSession],
        *,
        concurrency: int = 64,
        drain_seconds: float = 10.0,
        finish_every: float = 0.5,
        heartbeat: float | None = None,
    ) -> None:
        self.bot = bot
        self.dispatcher = dispatcher
        self.session_factory = session_factory
        self.heartbeat = heartbeat
        self.drain_seconds = drain_seconds
        self.finish_every = finish_every
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        self._latest: dict[tuple[int, int], asyncio.Task[None]] = {}  # per (chat, user)
        self._finished: list[int] = []  # handlers that ran to the end, to mark in a batch
        self._finisher: asyncio.Task[None] | None = None
        self._in_flight: set[int] = set()  # update ids spawned and not finished
        self._heart: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._finisher = asyncio.create_task(self._finish_marks(), name="inbox-finisher")
        if self.heartbeat is not None:
            self._heart = asyncio.create_task(self._beat(self.heartbeat), name="inbox-heartbeat")

    async def stop(self) -> None:
        """Let the updates in flight finish (up to `drain_seconds`), then record what was done."""
        if self._tasks:
            log.info("finishing %d updates in flight", len(self._tasks))
            _, pending = await asyncio.wait(self._tasks, timeout=self.drain_seconds)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        for background in (self._finisher, self._heart):
            if background is not None:
                background.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await background
        await self._flush_marks()

    async def store(self, payloads: Sequence[Mapping[str, Any]]) -> set[int]:
        """Put updates in the inbox as Telegram sent them (each with its `update_id`, see
        `update_id`); returns the ids that are new (the rest are repeats)."""
        if not payloads:
            return set()
        async with self.session_factory() as session:
            return await inbox.record(
                session, [(p["update_id"], dict(p)) for p in payloads], utcnow()
            )

    def take(self, payload: Mapping[str, Any]) -> None:
        """Handle a stored update. One that cannot be read as an update is logged and marked
        finished: it stays in the inbox to be looked at, and holds nothing up."""
        try:
            update = Update.model_validate(payload, context={"bot": self.bot})
        except ValidationError as error:
            log.error("update %s cannot be read, set aside: %s", payload["update_id"], error)
            self._finished.append(payload["update_id"])
            return
        self.spawn(update)

    async def recover(self, stale_after: timedelta = timedelta(0)) -> int:
        """Claim and handle stored updates nobody finished (older than `stale_after`)."""
        async with self.session_factory() as session:
            stored = await inbox.claim_unfinished(session, utcnow(), stale_after)
        if stored:
            log.info("handling %d stored updates nobody finished", len(stored))
        for _, payload in stored:
            self.take(payload)
        return len(stored)

    def spawn(self, update: Update) -> None:
        key = sequence_key(update)
        before = self._latest.get(key) if key else None
        task = asyncio.create_task(self._handle(update, before))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        self._in_flight.add(update.update_id)
        task.add_done_callback(lambda _: self._in_flight.discard(update.update_id))
        if key:
            self._latest[key] = task
            task.add_done_callback(lambda done: self._forget(key, done))

    def _forget(self, key: tuple[int, int], task: asyncio.Task[None]) -> None:
        if self._latest.get(key) is task:
            del self._latest[key]

    async def _handle(self, update: Update, before: asyncio.Task[None] | None) -> None:
        if before is not None:  # the same person's previous update in this chat goes first
            await asyncio.wait({before})
        # Telegram fails a payment whose pre-checkout is not answered within 10 seconds: it never
        # waits for a slot behind a burst of Join presses (it is one read and one answer).
        urgent = update.pre_checkout_query is not None
        async with contextlib.nullcontext() if urgent else self._slots:
            with handling(update.update_id):
                try:
                    await self.dispatcher.feed_update(self.bot, update)
                except Exception:
                    log.exception("update %s failed", update.update_id)
        # Not reached when cancelled (a stop that could not wait for it): the update stays
        # unfinished and is handled again at the next start.
        self._finished.append(update.update_id)

    async def _beat(self, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            if not self._in_flight:
                continue
            try:
                async with self.session_factory() as session:
                    await inbox.keep_claimed(session, sorted(self._in_flight), utcnow())
            except Exception:
                log.exception("could not renew the updates in hand")

    async def _finish_marks(self) -> None:
        while True:
            await asyncio.sleep(self.finish_every)
            await self._flush_marks()

    async def _flush_marks(self) -> None:
        if not self._finished:
            return
        done, self._finished = self._finished, []
        try:
            async with self.session_factory() as session:
                await inbox.mark_finished(session, done, utcnow())
        except Exception:
            log.exception("could not mark updates finished; they may be handled again")


def update_id(payload: object) -> int | None:
    """The update_id of what claims to be an update from Telegram, if it has one."""
    found = payload.get("update_id") if isinstance(payload, dict) else None
    return found if isinstance(found, int) and not isinstance(found, bool) else None


def sequence_key(update: Update) -> tuple[int, int] | None:
    """(chat, user) for what a person sends or presses; None for the rest."""
    if update.message is not None and update.message.from_user is not None:
        return update.message.chat.id, update.message.from_user.id
    query = update.callback_query
    if query is not None and query.message is not None:
        return query.message.chat.id, query.from_user.id
    return None
