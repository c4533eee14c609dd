"""Delivers the outbox: claims due messages, words them, sends them, records what happened.

- 200: sent (the message ids are kept, e.g. to edit a drop post later).
- 403 in private: the user never started the bot or blocked it. The message waits for their
  /start and the community's group is told once, with a deep link (see `outbox.hold_for_user`).
- 403 in a group: the bot is no longer there; the community stops receiving posts.
- 429: the rate limiter already waited and retried; if Telegram still refuses, try again later.
- 400: the message itself is wrong; it fails and is logged, never retried blindly.
- 5xx, timeouts, dropped connections: retried with exponential backoff.

A row is marked sent only after Telegram accepted it, so a crash can at most repeat the messages
that were on the wire at that moment (at most `concurrency` of them).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
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


class Unrenderable(Exception):
    """The facts behind the message are gone (e.g. a deleted drop): nothing to send."""


Renderer = Callable[[AsyncSession, Sequence[OutboxItem], outbox.Recipient], Awaitable[list[Part]]]


class OutboxSender:
    def __init__(
        self,
        bot: Bot,
        session_factory: async_sessionmaker[AsyncSession],
        render: Renderer,
        *,
        concurrency: int = 16,
        poll_interval: float = 1.0,
        batch: int = 200,
    ) -> None:
        self.bot = bot
        self.session_factory = session_factory
        self.render = render
        self.poll_interval = poll_interval
        self.batch = batch
        self._slots = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()
        self._in_flight: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False
        self._loop: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """Something was queued: look now rather than at the next poll."""
        self._wake.set()

    def start(self) -> None:
        self._loop = asyncio.create_task(self._run(), name="outbox-sender")

    async def stop(self, drain: float = 5.0) -> None:
        """Stop claiming; give the messages on the wire `drain` seconds to finish."""
        self._stopping = True
        self._wake.set()
        if self._loop is not None:
            self._loop.cancel()
            await asyncio.gather(self._loop, return_exceptions=True)
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=drain)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def _run(self) -> None:
        while not self._stopping:
            try:
                claimed = await self._claim()
            except Exception:
                log.exception("could not read the outbox; retrying")
                claimed = 0
            if claimed:
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_interval)

    async def _claim(self) -> int:
        async with self.session_factory() as session:
            items = await outbox.claim_due(
                session, utcnow(), self.batch, skip=sorted(self._in_flight)
            )
        jobs: dict[tuple[int, outbox.Kind], list[OutboxItem]] = defaultdict(list)
        singles: list[list[OutboxItem]] = []
        for item in items:
            if item.kind in outbox.COALESCED:
                jobs[(item.chat_id, item.kind)].append(item)
            else:
                singles.append([item])
        for job in [*singles, *jobs.values()]:
            self._in_flight.update(item.id for item in job)
            await self._slots.acquire()
            task = asyncio.create_task(self._deliver(job))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return len(items)

    async def _deliver(self, items: list[OutboxItem]) -> None:
        first = items[0]
        token = send_priority.set(outbox.PRIORITY[first.kind])
        try:
            async with self.session_factory() as session:
                await self._deliver_in(session, items)
        except Exception:
            log.exception("delivering outbox %s failed unexpectedly", [i.id for i in items])
            async with self.session_factory() as session:
                await outbox.retry_later(session, first, timedelta(seconds=30), "crash", utcnow())
        finally:
            send_priority.reset(token)
            self._in_flight.difference_update(item.id for item in items)
            self._slots.release()

    async def _deliver_in(self, session: AsyncSession, items: list[OutboxItem]) -> None:
        first = items[0]
        recipient = await outbox.recipient(session, first)
        if first.user_id is not None and recipient.unreachable:
            # A 403 was seen and they have not started the bot since: do not knock again.
            for item in items:
                await outbox.hold_for_user(session, item, utcnow())
            return
        try:
            parts = await self.render(session, items, recipient)
        except Unrenderable as reason:
            await outbox.mark_failed(session, items, f"unrenderable: {reason}")
            return
        try:
            message_ids = []
            for part in parts:
                sent = await self.bot.send_message(
                    first.chat_id, part.text, reply_markup=part.markup
                )
                message_ids.append(sent.message_id)
        except TelegramForbiddenError as error:
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
            await outbox.mark_failed(session, items, error.message)
            await self._settle_broadcasts(session, items)
            return
        except (TelegramNetworkError, TelegramServerError) as error:
            delay = min(MAX_BACKOFF, timedelta(seconds=2 ** min(first.attempts, 10)))
            for item in items:
                if not await outbox.retry_later(session, item, delay, error.message, utcnow()):
                    await self._settle_broadcasts(session, [item])
            return
        await outbox.mark_sent(session, items, message_ids, utcnow())
        await self._settle_broadcasts(session, items)

    async def _settle_broadcasts(self, session: AsyncSession, items: Sequence[OutboxItem]) -> None:
        ids = {i.broadcast_id for i in items if i.broadcast_id and i.kind is outbox.Kind.BROADCAST}
        if ids:
            await broadcasts.after_delivery(session, ids, utcnow())
            self.wake()
