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

Priorities: the sender keeps only a few more messages claimed than it has workers (twice as many),
most urgent first, so a pickup code queued during a 10,000-message broadcast goes out within a
few dozen messages, not after it; and replies to users' own commands overtake both (the rate
limiter serves priority 0 first).

Throughput: one transaction claims a batch (with who reads each message), and "sent" marks are
group-committed, so the database is not the bottleneck at Telegram's rates.

A row is claimed (`sending`, with this sender's id and the time) before it goes and marked sent
only after Telegram accepted it. The only sender (polling) takes every claim back at start; with
several instances (webhook mode) each sender renews all its claims every few seconds (a
heartbeat), a claim nobody renewed for 10 s is taken over by whoever looks, and a sender renews
its claim just before sending (skipping rows another took over). So a crash
(kill -9) can at most repeat the messages that were on the wire at that moment: at most
`concurrency` (16) of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
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
from aiogram.types import InputMediaPhoto, LabeledPrice
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.delivery.events import DeliveryLog
from bot.delivery.limiter import send_priority
from bot.delivery.pictures import DropPictures
from bot.parts import NotYet, Part, Unrenderable, digest
from bot.services import notices
from bot.services.community import broadcasts, communities
from bot.services.kernel import outbox
from bot.services.kernel.clock import utcnow
from bot.services.kernel.outbox import OutboxItem

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(minutes=5)
# A live sender renews its claims every HEARTBEAT seconds, so a claim older than the lease means
# its sender is gone (the lease also absorbs a few seconds of clock difference between machines).
CLAIM_LEASE = timedelta(seconds=10)
HEARTBEAT = 3.0  # seconds between renewing our claims and looking for stale ones


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
        pictures: DropPictures | None = None,
        concurrency: int = 16,
        poll_interval: float = 1.0,
        exclusive: bool = True,
    ) -> None:
        self.bot = bot
        self.session_factory = session_factory
        self.render = render
        self.events = events
        self.admin_ids = frozenset(admin_ids)
        self.pictures = pictures
        self.concurrency = concurrency
        self.poll_interval = poll_interval
        # The only sender (polling) takes every claim back at start; one of several (webhook
        # instances) takes over only stale claims, and checks its own before each send.
        self.exclusive = exclusive
        self.owner = uuid.uuid4().hex[:16]
        self._next_takeover = 0.0
        # Claimed and not started yet, most urgent first.
        self._ready: asyncio.PriorityQueue[tuple[int, int, OutboxItem]] = asyncio.PriorityQueue()
        self._wake = asyncio.Event()
        self._busy = 0  # workers delivering right now
        self._idle = asyncio.Event()  # nothing claimed and nobody delivering
        self._marks = _SentMarks(self)
        self._companions: dict[int, list[OutboxItem]] = {}  # see _together
        self._draining_until: float | None = None
        self._tasks: list[asyncio.Task[None]] = []

    def wake(self) -> None:
        """Something was queued: look now rather than at the next poll."""
        self._wake.set()

    async def start(self) -> None:
        async with self.session_factory() as session:
            resumed = await outbox.release_claims(
                session, utcnow(), None if self.exclusive else CLAIM_LEASE
            )
        if resumed:
            log.info("resending %d messages that were on their way at the last stop", resumed)
        self._tasks = [
            asyncio.create_task(self._claim_loop(), name="outbox-claims"),
            asyncio.create_task(self._marks.run(), name="outbox-marks"),
            *(
                asyncio.create_task(self._work(), name=f"outbox-worker-{n}")
                for n in range(self.concurrency)
            ),
        ]

    async def stop(self, drain: float = 5.0) -> None:
        """Deliver what is due for up to `drain` seconds, then stop; what is left stays queued
        (claimed rows are released at the next start)."""
        self._draining_until = asyncio.get_running_loop().time() + drain
        self.wake()
        if self._ready.qsize() or self._busy:
            self._idle.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(drain):
                    await self._idle.wait()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._marks.flush()

    async def _claim_loop(self) -> None:
        """Keep a few more messages claimed than there are workers, most urgent first."""
        while True:
            await self._take_over_stale_claims()
            want = 2 * self.concurrency - self._ready.qsize() - self._busy
            claimed: list[OutboxItem] = []
            if want > 0 and self._draining_until is None:
                try:
                    async with self.session_factory() as session:
                        claimed = await outbox.claim_due(session, utcnow(), want, self.owner)
                except Exception:
                    log.exception("could not read the outbox; retrying")
            for item in self._together(claimed):
                self._ready.put_nowait((notices.PRIORITY[item.kind], item.id, item))
            if claimed and len(claimed) == want:
                continue
            self._wake.clear()
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_interval):
                    await self._wake.wait()

    def _together(self, claimed: list[OutboxItem]) -> list[OutboxItem]:
        """Rows of a coalesced kind for one chat claimed in one batch go out as one message:
        the first carries the others (its companions)."""
        first: dict[tuple[int, notices.Kind], OutboxItem] = {}
        alone: list[OutboxItem] = []
        for item in claimed:
            if item.kind not in notices.COALESCED:
                alone.append(item)
            elif (key := (item.chat_id, item.kind)) in first:
                self._companions.setdefault(first[key].id, []).append(item)
            else:
                first[key] = item
                alone.append(item)
        return alone

    async def _take_over_stale_claims(self) -> None:
        """With several instances: every few seconds, renew our claims, and put claims older
        than the lease (a killed instance's) back in the queue for anyone to send."""
        now = asyncio.get_running_loop().time()
        if self.exclusive or now < self._next_takeover:
            return
        self._next_takeover = now + HEARTBEAT
        try:
            async with self.session_factory() as session:
                await outbox.renew_claims(session, self.owner, utcnow())
                taken = await outbox.release_claims(session, utcnow(), CLAIM_LEASE)
            if taken:
                log.info("took over %d messages a stopped instance had claimed", taken)
        except Exception:
            log.exception("could not look for stale claims")

    async def _work(self) -> None:
        while True:
            _, _, item = await self._ready.get()
            self._busy += 1
            try:
                await self._deliver(item)
            finally:
                self._busy -= 1
                if self._ready.qsize() < self.concurrency:
                    self._wake.set()  # time to claim more
                if not self._ready.qsize() and not self._busy:
                    self._idle.set()

    async def _deliver(self, item: OutboxItem) -> None:
        companions = self._companions.pop(item.id, [])
        items = [item, *companions]
        token = send_priority.set(notices.PRIORITY[item.kind])
        try:
            async with self.session_factory() as session:
                if not self.exclusive and not await outbox.renew_claim(
                    session, item.id, self.owner, utcnow()
                ):
                    # It waited too long here and another instance took it over; its
                    # companions are still ours: they go on their own.
                    for other in companions:
                        self._ready.put_nowait((notices.PRIORITY[other.kind], other.id, other))
                    return
                if item.kind in notices.COALESCED:
                    items += await outbox.claim_siblings(session, item, self.owner, utcnow())
                await self._deliver_in(session, items)
        except Exception:
            log.exception("delivering outbox %s failed unexpectedly", [i.id for i in items])
            async with self.session_factory() as session:
                for each in items:  # siblings too: none may stay claimed for nothing
                    await outbox.retry_later(
                        session, each, timedelta(seconds=30), "crash", utcnow()
                    )
        finally:
            send_priority.reset(token)

    async def _deliver_in(self, session: AsyncSession, items: list[OutboxItem]) -> None:
        first = items[0]
        recipient = first.recipient
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
        except NotYet as wait:
            await outbox.postpone(session, items, utcnow() + timedelta(seconds=wait.seconds))
            return
        try:
            message_ids = await self._send_parts(session, items, parts)
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
            await outbox.postpone(session, items, utcnow())  # again, to the new chat
            return
        except TelegramRetryAfter as error:
            await outbox.postpone(session, items, utcnow() + timedelta(seconds=error.retry_after))
            return
        except TelegramBadRequest as error:
            log.error("Telegram refused outbox %s (%s): %s", first.id, first.kind, error.message)
            self.events.note("400", first.chat_id, error.message)
            await outbox.mark_failed(session, items, error.message)
            if first.kind is not notices.Kind.ADMIN_ALERT:
                await outbox.alert_admins(session, self.admin_ids, first, error.message, utcnow())
            await self.settle_broadcasts(session, items)
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
                    await self.settle_broadcasts(session, [item])
            return
        await self._marks.add(items, message_ids, digest(parts))

    async def _send_parts(
        self, session: AsyncSession, items: list[OutboxItem], parts: list[Part]
    ) -> list[int]:
        """Send the parts an earlier attempt did not; on a failure, remember those sent."""
        first = items[0]
        sent = list(first.sent_parts)
        try:
            for part in parts[len(sent) :]:
                sent.append(await self._send(first.chat_id, part))
        except Exception:
            if len(sent) > len(first.sent_parts):
                await outbox.parts_sent(session, items, sent)
            raise
        return sent

    async def _send(self, chat_id: int, part: Part) -> int:
        if part.picture is not None:
            assert self.pictures is not None, "a sender that sends drop posts draws pictures"
            sent = await self.pictures.send(
                part.picture,
                lambda photo: self.bot.send_photo(
                    chat_id, photo, caption=part.text or None, reply_markup=part.markup
                ),
            )
            return sent.message_id
        if part.invoice is not None:
            bill = part.invoice
            sent = await self.bot.send_invoice(
                chat_id,
                title=bill.title,
                description=bill.description,
                payload=bill.payload,
                currency=bill.currency,
                prices=[LabeledPrice(label=bill.label, amount=bill.amount)],
                provider_token=bill.provider_token or None,
            )
            return sent.message_id
        if part.venue is not None:
            place = part.venue
            sent = await self.bot.send_venue(
                chat_id, place.latitude, place.longitude, place.title, place.address
            )
            return sent.message_id
        if part.photos:
            album = await self.bot.send_media_group(
                chat_id, [InputMediaPhoto(media=photo) for photo in part.photos]
            )
            return album[0].message_id
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

    async def settle_broadcasts(self, session: AsyncSession, items: Sequence[OutboxItem]) -> None:
        ids = {i.broadcast_id for i in items if i.broadcast_id and i.kind is notices.Kind.BROADCAST}
        if ids:
            await broadcasts.after_delivery(session, ids, utcnow())
            self.wake()


class _SentMarks:
    """Group commit of "sent": a delivered message's worker waits until its mark is committed,
    and the marks that arrive while one commit runs are committed together by the next. One
    transaction serves many messages, and a crash can still repeat only messages on the wire."""

    def __init__(self, sender: OutboxSender) -> None:
        self.sender = sender
        self._pending: list[tuple[outbox.Delivery, asyncio.Future[None]]] = []
        self._arrived = asyncio.Event()

    async def add(self, items: list[OutboxItem], message_ids: list[int], drawing: str) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((outbox.Delivery(items, message_ids, drawing), done))
        self._arrived.set()
        await done

    async def run(self) -> None:
        while True:
            await self._arrived.wait()
            self._arrived.clear()
            await self.flush()

    async def flush(self) -> None:
        batch, self._pending = self._pending, []
        if not batch:
            return
        try:
            async with self.sender.session_factory() as session:
                await outbox.mark_sent(session, [d for d, _ in batch], utcnow())
                await self.sender.settle_broadcasts(
                    session, [i for delivery, _ in batch for i in delivery.items]
                )
        except Exception as error:
            log.exception("could not record %d sent messages", len(batch))
            for _, done in batch:
                done.set_exception(error)
            return
        for _, done in batch:
            done.set_result(None)
