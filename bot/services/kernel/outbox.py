"""The outbox: messages queued in the same transaction as the change that causes them.

A service calls `enqueue(...)` inside its own unit of work, so a crash either loses both the change
and the message or neither. `bot.delivery.sender` claims due rows, renders them in the recipient's
language at that moment, sends them and records the outcome here. What each kind of message
carries is typed in `bot/services/notices.py`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, bindparam, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import notices
from bot.services.kernel import effects
from bot.services.kernel.sql import upsert
from bot.services.kernel.uow import housekeeping, read_only
from bot.services.notices import (
    PRIORITY,
    AdminAlertNotice,
    DropPostNotice,
    Kind,
    Payload,
    UnreachableNotice,
)
from models import Community, DeliveryEvent, DropPost, OutboxMessage, OutboxState, User

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
_CHUNK = 500  # rows per INSERT; stays under SQLite's bound-parameter limit


@dataclass(frozen=True)
class Notice:
    """A message to queue: what it is about (`payload`, which also says its kind) and where."""

    payload: Payload
    chat_id: int
    user_id: int | None = None  # the private recipient
    community_id: int | None = None
    dedupe_key: str | None = None
    broadcast_id: int | None = None
    # Wait this long before going, so that others of a coalesced kind queued meanwhile go with it.
    gather: timedelta = timedelta(0)

    @property
    def kind(self) -> Kind:
        return self.payload.KIND


@dataclass(frozen=True)
class Event:
    at: datetime
    kind: str  # "429", "403", "400", "5xx", "network"
    chat_id: int | None
    detail: str | None


@dataclass(frozen=True)
class Recipient:
    """What decides how a message is worded and whether it can go at all."""

    language: str | None  # the user's /lang choice (private messages)
    tg_language: str | None
    community_language: str | None
    unreachable: bool


NOBODY = Recipient(None, None, None, False)


@dataclass(frozen=True)
class OutboxItem:
    id: int
    kind: Kind
    chat_id: int
    user_id: int | None
    community_id: int | None
    broadcast_id: int | None
    payload: Payload
    attempts: int
    recipient: Recipient = NOBODY  # as claimed: who reads it, in which language, reachable?
    # Parts of it Telegram already took on an earlier attempt that failed at a later part: a
    # retry sends only the rest, so nobody gets the first part twice.
    sent_parts: tuple[int, ...] = ()


async def enqueue(session: AsyncSession, notices: Iterable[Notice], now: datetime) -> int:
    """Queue messages in the caller's transaction. A notice whose dedupe key was queued before is
    dropped: the same fact is never sent twice. Returns how many were queued."""
    rows = [
        {
            "kind": notice.kind.value,
            "chat_id": notice.chat_id,
            "user_id": notice.user_id,
            "community_id": notice.community_id,
            "broadcast_id": notice.broadcast_id,
            "payload": notice.payload.stored(),
            "priority": PRIORITY[notice.kind],
            "dedupe_key": notice.dedupe_key,
            "state": OutboxState.PENDING,
            "attempts": 0,
            "next_attempt_at": now + notice.gather,
            "created_at": now,
        }
        for notice in notices
    ]
    queued = 0
    for start in range(0, len(rows), _CHUNK):
        statement = (
            upsert(session, OutboxMessage)
            .values(rows[start : start + _CHUNK])
            .on_conflict_do_nothing(index_elements=[OutboxMessage.dedupe_key])
        )
        result = await session.execute(statement)
        queued += int(getattr(result, "rowcount", 0) or 0)
    if queued:
        effects.queued(session)
    return queued


async def release_for_user(session: AsyncSession, user_id: int, now: datetime) -> int:
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.user_id == user_id, OutboxMessage.state == OutboxState.BLOCKED)
        .values(state=OutboxState.PENDING, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    released = int(getattr(result, "rowcount", 0) or 0)
    if released:
        effects.queued(session)
    return released


@housekeeping
async def claim_siblings(
    session: AsyncSession, item: OutboxItem, owner: str, now: datetime
) -> list[OutboxItem]:
    """Claim the other due rows of a coalesced kind for the same chat: they go out as one."""
    ids = (
        await session.scalars(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.state == OutboxState.PENDING,
                OutboxMessage.chat_id == item.chat_id,
                OutboxMessage.kind == item.kind.value,
            )
            .order_by(OutboxMessage.id)
            .limit(200)
            .with_for_update(skip_locked=True)
        )
    ).all()
    return await _claim(session, list(ids), owner, now)


async def _claim(
    session: AsyncSession, ids: list[int], owner: str, now: datetime
) -> list[OutboxItem]:
    if not ids:
        return []
    claimed = (
        await session.scalars(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), OutboxMessage.state == OutboxState.PENDING)
            .values(state=OutboxState.SENDING, claimed_by=owner, claimed_at=now)
            .returning(OutboxMessage)
            .execution_options(synchronize_session=False)
        )
    ).all()
    rows: list[tuple[OutboxMessage, Payload]] = []
    for row in claimed:
        try:
            rows.append((row, notices.read(row.kind, row.payload)))
        except notices.Unreadable as reason:
            # Written by a bug, or by a version that worded it otherwise: no attempt can send
            # it, so it fails now, once, with the reason (it shows in /status).
            log.error("outbox %s: %s", row.id, reason)
            await _set_failed(session, row.id, str(reason))
    # Who reads each message, for all of them in two reads (not two per message).
    user_ids = {row.user_id for row, _ in rows if row.user_id is not None}
    community_ids = {row.community_id for row, _ in rows if row.community_id is not None}
    users = {
        u.id: u for u in (await session.scalars(select(User).where(User.id.in_(user_ids)))).all()
    }
    places = {
        c.id: c
        for c in (
            await session.scalars(select(Community).where(Community.id.in_(community_ids)))
        ).all()
    }
    items = [
        OutboxItem(
            id=row.id,
            kind=payload.KIND,
            chat_id=row.chat_id,
            user_id=row.user_id,
            community_id=row.community_id,
            broadcast_id=row.broadcast_id,
            payload=payload,
            attempts=row.attempts,
            recipient=_recipient_of(users.get(row.user_id or 0), places.get(row.community_id or 0)),
            sent_parts=tuple(row.message_ids or ()),
        )
        for row, payload in rows
    ]
    return sorted(items, key=lambda i: (PRIORITY[i.kind], i.id))


@housekeeping
async def claim_due(
    session: AsyncSession, now: datetime, limit: int, owner: str
) -> list[OutboxItem]:
    """Claim up to `limit` due rows, most urgent first: they are the caller's to send now."""
    ids = (
        await session.scalars(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.state == OutboxState.PENDING,
                OutboxMessage.next_attempt_at <= now,
            )
            .order_by(OutboxMessage.priority, OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).all()
    return await _claim(session, list(ids), owner, now)


@housekeeping
async def release_claims(
    session: AsyncSession, now: datetime, stale_after: timedelta | None = None
) -> int:
    """Claimed rows go back to the queue: all of them (`stale_after` None: the only sender,
    starting), or those claimed longer ago than `stale_after` (a sender that died, when several
    instances share the outbox). Some may have reached Telegram: at most a sender's concurrency
    is sent twice."""
    query = update(OutboxMessage).where(OutboxMessage.state == OutboxState.SENDING)
    if stale_after is not None:
        query = query.where(
            or_(OutboxMessage.claimed_at.is_(None), OutboxMessage.claimed_at < now - stale_after)
        )
    result = await session.execute(
        query.values(state=OutboxState.PENDING, claimed_by=None, claimed_at=None).execution_options(
            synchronize_session=False
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


@housekeeping
async def renew_claims(session: AsyncSession, owner: str, now: datetime) -> int:
    """The heartbeat of a live sender: every row it holds is still being worked on. Only a
    claim nobody renews for the lease (its sender is gone) may be taken over."""
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.state == OutboxState.SENDING, OutboxMessage.claimed_by == owner)
        .values(claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


@housekeeping
async def renew_claim(session: AsyncSession, item_id: int, owner: str, now: datetime) -> bool:
    """Just before sending: is the row still ours? (Renewing keeps others from taking it.)"""
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == item_id,
            OutboxMessage.state == OutboxState.SENDING,
            OutboxMessage.claimed_by == owner,
        )
        .values(claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


@read_only
async def user_recipient(session: AsyncSession, user_id: int) -> Recipient:
    return await _recipient(session, user_id, None)


async def _recipient(
    session: AsyncSession, user_id: int | None, community_id: int | None
) -> Recipient:
    user = await session.get(User, user_id) if user_id is not None else None
    community = await session.get(Community, community_id) if community_id is not None else None
    return _recipient_of(user, community)


def _recipient_of(user: User | None, community: Community | None) -> Recipient:
    return Recipient(
        language=user.language if user else None,
        tg_language=user.tg_language if user else None,
        community_language=community.language if community else None,
        unreachable=bool(user and user.unreachable_at is not None),
    )


@dataclass(frozen=True)
class Delivery:
    """Rows Telegram accepted as one message (or several parts), and what it showed."""

    items: Sequence[OutboxItem]
    message_ids: list[int]
    drawing: str  # a digest of the text and buttons sent


@housekeeping
async def mark_sent(session: AsyncSession, deliveries: Sequence[Delivery], now: datetime) -> None:
    """Record what Telegram accepted."""
    table = cast(Table, OutboxMessage.__table__)
    rows = [
        {"b_id": item.id, "b_message_ids": delivery.message_ids}
        for delivery in deliveries
        for item in delivery.items
    ]
    if rows:
        await session.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(
                state=OutboxState.SENT,
                sent_at=now,
                message_ids=bindparam("b_message_ids"),
                error=None,
            ),
            rows,
        )
    for delivery in deliveries:
        for item in delivery.items:
            if isinstance(item.payload, DropPostNotice):
                # The live post is edited later (progress, outcome): remember where it is and
                # what it shows.
                await session.execute(
                    update(DropPost)
                    .where(DropPost.id == item.payload.post_id)
                    .values(
                        message_ids=delivery.message_ids,
                        render_hash=delivery.drawing,
                        edited_at=now,
                    )
                    .execution_options(synchronize_session=False)
                )


@housekeeping
async def retry_later(
    session: AsyncSession, item: OutboxItem, delay: timedelta, error: str, now: datetime
) -> bool:
    """Schedule another attempt; past MAX_ATTEMPTS the row fails for good. True if it will retry."""
    attempts = item.attempts + 1
    if attempts >= MAX_ATTEMPTS:
        await _set_failed(session, item.id, error)
        return False
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == item.id)
        .values(
            state=OutboxState.PENDING,
            attempts=attempts,
            next_attempt_at=now + delay,
            error=error[:1000],
        )
        .execution_options(synchronize_session=False)
    )
    return True


@housekeeping
async def parts_sent(
    session: AsyncSession, items: Sequence[OutboxItem], message_ids: list[int]
) -> None:
    """Telegram took the first parts of a message, then refused one: remember those it took."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_([item.id for item in items]))
        .values(message_ids=message_ids)
        .execution_options(synchronize_session=False)
    )


@housekeeping
async def postpone(session: AsyncSession, items: Sequence[OutboxItem], until: datetime) -> None:
    """Send again at `until` (Telegram asked us to wait, or the chat moved): not the message's
    fault, so no attempt is counted."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_([item.id for item in items]))
        .values(state=OutboxState.PENDING, next_attempt_at=until)
        .execution_options(synchronize_session=False)
    )


@housekeeping
async def mark_failed(session: AsyncSession, items: Sequence[OutboxItem], error: str) -> None:
    for item in items:
        await _set_failed(session, item.id, error)


async def _set_failed(session: AsyncSession, outbox_id: int, error: str) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == outbox_id)
        .values(state=OutboxState.FAILED, error=error[:1000])
        .execution_options(synchronize_session=False)
    )


@housekeeping
async def hold_for_user(session: AsyncSession, item: OutboxItem, now: datetime) -> None:
    """The recipient cannot be written to (never started the bot, or blocked it).

    The message waits for their /start, and the community's group is told once per episode,
    with the deep link, that they should open the private chat.
    """
    assert item.user_id is not None
    user = await session.get(User, item.user_id)
    if user is None:
        await _set_failed(session, item.id, "unknown recipient")
        return
    if user.unreachable_at is None:
        user.unreachable_at = now
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == item.id)
        .values(state=OutboxState.BLOCKED)
        .execution_options(synchronize_session=False)
    )
    if item.community_id is None:
        return
    community = await session.get(Community, item.community_id)
    if community is None or not community.active:
        return
    episode = int(user.unreachable_at.timestamp())
    notice = Notice(
        UnreachableNotice(user_id=user.id, name=_display_name(user)),
        chat_id=community.chat_id,
        community_id=community.id,
        dedupe_key=f"unreachable:{community.id}:{user.id}:{episode}",
    )
    await enqueue(session, [notice], now)


@housekeeping
async def deactivate_chat(session: AsyncSession, chat_id: int, error: str) -> None:
    """The bot is no longer in this group: stop posting there."""
    await session.execute(
        update(Community)
        .where(Community.chat_id == chat_id)
        .values(active=False)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.chat_id == chat_id,
            OutboxMessage.state.in_([OutboxState.PENDING, OutboxState.SENDING]),
        )
        .values(state=OutboxState.FAILED, error=error[:1000])
        .execution_options(synchronize_session=False)
    )


def _display_name(user: User) -> str:
    return f"{user.first_name} {user.last_name}" if user.last_name else user.first_name


@housekeeping
async def record_events(session: AsyncSession, events: Sequence[Event]) -> None:
    session.add_all(
        DeliveryEvent(at=e.at, kind=e.kind, chat_id=e.chat_id, detail=e.detail) for e in events
    )


@housekeeping
async def alert_admins(
    session: AsyncSession, admin_ids: Iterable[int], item: OutboxItem, error: str, now: datetime
) -> None:
    """Telegram refused a message as malformed (400): the admins should know, once per message."""
    await enqueue(
        session,
        [
            Notice(
                AdminAlertNotice(kind=item.kind.value, chat_id=item.chat_id, error=error[:300]),
                chat_id=admin,
                user_id=admin,
                dedupe_key=f"alert:{item.id}:{admin}",
            )
            for admin in sorted(admin_ids)
        ],
        now,
    )


@housekeeping
async def prune_events(session: AsyncSession, before: datetime) -> None:
    await session.execute(delete(DeliveryEvent).where(DeliveryEvent.at < before))
