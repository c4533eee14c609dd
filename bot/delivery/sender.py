"""Delivers the outbox: claims due messages, words them, sends them, records what happened.

- 200: sent (the message ids are kept, e.g. to edit a drop post later).
- 403 in private: the user never started the bot or blocked it. The message waits for their
  next private message to the bot, and the community's group is told once, with a deep link
  (`outbox.hold_for_user`).
- 403 in a group: the bot is no longer there; the community stops receiving posts.
- 429: the rate limiter already waited out `retry_after` and retried; if Telegram still refuses,
  the message waits that long again (no attempt counted: it is not the message's fault).
- 400: the message itself is wrong. It fails, the error is kept with it, the admins are told, and
  it is not retried blindly.
- 5xx, timeouts, dropped connections: retried with exponential backoff, up to 8 attempts.

Priorities: the sender only claims as many messages as it has free slots, most urgent first, so
a pickup code queued during a 10,000-message broadcast goes out next, not after it; and replies to
users' own commands overtake both (the rate limiter serves priority 0 first).

A row is marked sent only after Telegram accepted it, so a crash (kill -9) can at most repeat the
messages that were on the wire at that moment: at most `concurrency` (16) of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import InlineKeyboardMarkup
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.delivery.events import DeliveryLog
from bot.delivery.limiter import send_priority
from bot.services import broadcasts, communities, outbox
from bot.services.clock import utcnow
from bot.services.outbox import OutboxItem

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(minutes=5)


@dataclass(frozen=True)
class Part:
    text: str
    markup: InlineKeyboardMarkup | None = None
    edit_message_id: int | None = None  # edit this message instead (falls back to sending)


class Unrenderable(Exception):
    """The facts behind the message are gone (e.g. a deleted drop): nothing to send."""


Renderer = Callable[[AsyncSession, Sequence[OutboxItem], outbox.Recipient], Awaitable[list[Part]]]


class OutboxSender:
    def __init__(
        self,
        bot: Bot,
        session_factory: async_sessionmaker[AsyncSession],
        render: Renderer,
        events: DeliveryLog,
        admin_ids: Iterable[int] = (),
        *,
        concurrency: int = 16,
        poll_interval: float = 1.0,
    ) -> None:
        self.bot = bot
        self.session_factory = session_factory
        self.render = render
        self.events = events
        self.admin_ids = frozenset(admin_ids)
        self.concurrency = concurrency
        self.poll_interval = poll_interval
        self._wake = asyncio.Event()
        self._in_flight: set[int] = set()
        self._jobs: set[asyncio.Task[None]] = set()
        self._draining_until: float | None = None
        self._loop: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """Something was queued: look now rather than at the next poll."""
        self._wake.set()

    def start(self) -> None:
        self._loop = asyncio.create_task(self._run(), name="outbox-sender")

    async def stop(self, drain: float = 5.0) -> None:
        """Deliver what is due for up to `drain` seconds, then stop; what is left stays queued."""
        loop = asyncio.get_running_loop()
        self._draining_until = loop.time() + drain
        self.wake()
        if self._loop is not None:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(self._loop, drain + 1)
        if self._jobs:
            _, pending = await asyncio.wait(self._jobs, timeout=1)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    def _draining_over(self) -> bool:
        return (
            self._draining_until is not None
            and asyncio.get_running_loop().time() >= self._draining_until
        )

    async def _run(self) -> None:
        while not self._draining_over():
            free = self.concurrency - len(self._jobs)
            claimed = 0
            if free > 0:
                try:
                    claimed = await self._claim(free)
                except Exception:
                    log.exception("could not read the outbox; retrying")
            if self._draining_until is not None and not claimed and not self._jobs:
                return  # stopping, and nothing more is due
            if claimed and len(self._jobs) < self.concurrency:
                continue
            # Wait for a free slot, something newly queued, or the next poll.
            self._wake.clear()
            waiters = [asyncio.ensure_future(self._wake.wait()), *self._jobs]
            await asyncio.wait(
                waiters, timeout=self.poll_interval, return_when=asyncio.FIRST_COMPLETED
            )
            waiters[0].cancel()

    async def _claim(self, free: int) -> int:
        async with self.session_factory() as session:
            items = await outbox.claim_due(session, utcnow(), free, skip=sorted(self._in_flight))
        for item in items:
            self._in_flight.add(item.id)
            task = asyncio.create_task(self._deliver(item))
            self._jobs.add(task)
            task.add_done_callback(self._jobs.discard)
        return len(items)

    async def _deliver(self, item: OutboxItem) -> None:
        items = [item]
        token = send_priority.set(outbox.PRIORITY[item.kind])
        try:
            async with self.session_factory() as session:
                if item.kind in outbox.COALESCED:
                    more = await outbox.siblings(session, item, sorted(self._in_flight))
                    self._in_flight.update(m.id for m in more)
                    items += more
                await self._deliver_in(session, items)
        except Exception:
            log.exception("delivering outbox %s failed unexpectedly", [i.id for i in items])
            async with self.session_factory() as session:
                await outbox.retry_later(session, item, timedelta(seconds=30), "crash", utcnow())
        finally:
            send_priority.reset(token)
            self._in_flight.difference_update(i.id for i in items)
            self._wake.set()

    async def _deliver_in(self, session: AsyncSession, items: list[OutboxItem]) -> None:
        first = items[0]
        recipient = await outbox.recipient(session, first)
        if first.user_id is not None and recipient.unreachable:
            # A 403 was seen and they have not written to the bot since: do not knock again.
            for item in items:
                await outbox.hold_for_user(session, item, utcnow())
            return
        try:
            parts = await self.render(session, items, recipient)
        except Unrenderable as reason:
            await outbox.mark_failed(session, items, f"unrenderable: {reason}")
            return
        try:
            message_ids = [await self._send(first.chat_id, part) for part in parts]
        except TelegramForbiddenError as error:
            self.events.note("403", first.chat_id, error.message)
            if first.user_id is not None:
                for item in items:
                    await outbox.hold_for_user(session, item, utcnow())
            else:
                log.warning("bot is no longer in chat %s: %s", first.chat_id, error.message)
                await outbox.deactivate_chat(session, first.chat_id, error.message)
            return
        except TelegramMigrateToChat as error:
            await communities.chat_migrated(session, first.chat_id, error.migrate_to_chat_id)
            return
        except TelegramRetryAfter as error:
            await outbox.postpone(session, items, utcnow() + timedelta(seconds=error.retry_after))
            return
        except TelegramBadRequest as error:
            log.error("Telegram refused outbox %s (%s): %s", first.id, first.kind, error.message)
            self.events.note("400", first.chat_id, error.message)
            await outbox.mark_failed(session, items, error.message)
            if first.kind is not outbox.Kind.ADMIN_ALERT:
                await outbox.alert_admins(session, self.admin_ids, first, error.message, utcnow())
            await self._settle_broadcasts(session, items)
            return
        except (TelegramNetworkError, TelegramServerError) as error:
            self.events.note(
                "5xx" if isinstance(error, TelegramServerError) else "network",
                first.chat_id,
                error.message,
            )
            delay = min(MAX_BACKOFF, timedelta(seconds=2 ** min(first.attempts, 10)))
            for item in items:
                if not await outbox.retry_later(session, item, delay, error.message, utcnow()):
                    await self._settle_broadcasts(session, [item])
            return
        await outbox.mark_sent(session, items, message_ids, utcnow())
        await self._settle_broadcasts(session, items)

    async def _send(self, chat_id: int, part: Part) -> int:
        if part.edit_message_id is not None:
            try:
                await self.bot.edit_message_text(
                    part.text,
                    chat_id=chat_id,
                    message_id=part.edit_message_id,
                    reply_markup=part.markup,
                )
                return part.edit_message_id
            except TelegramBadRequest as error:
                if "not modified" in error.message:
                    return part.edit_message_id
                # The message is gone or too old to edit: send a new one instead.
        sent = await self.bot.send_message(chat_id, part.text, reply_markup=part.markup)
        return sent.message_id

    async def _settle_broadcasts(self, session: AsyncSession, items: Sequence[OutboxItem]) -> None:
        ids = {i.broadcast_id for i in items if i.broadcast_id and i.kind is outbox.Kind.BROADCAST}
        if ids:
            await broadcasts.after_delivery(session, ids, utcnow())
            self.wake()
