"""Admin broadcasts: the same text to every active community group.

The admin sees one status message, edited as the broadcast goes out (sent / total, failures,
time left) with a Stop button; when every message was sent, failed or stopped, the status
message becomes the final report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import notices
from bot.services.community.people import Actor
from bot.services.kernel import outbox
from bot.services.kernel.errors import BroadcastNotFound, NoActiveCommunities, TextTooLong
from bot.services.kernel.uow import housekeeping, read_only, unit_of_work
from bot.services.notices import BroadcastNotice, BroadcastReportNotice
from models import Broadcast, Community, OutboxMessage, OutboxState

MAX_TEXT = 4096  # as much as a Telegram message holds; a longer post goes out in parts
_UNFINISHED = (OutboxState.PENDING, OutboxState.SENDING, OutboxState.BLOCKED)
_STOPPABLE = (OutboxState.PENDING, OutboxState.BLOCKED)  # not what is already on its way


@dataclass(frozen=True)
class Progress:
    broadcast_id: int
    admin_id: int
    status_message_id: int | None
    total: int
    sent: int
    failed: int
    cancelled: int
    pending: int
    started_at: datetime
    stopped_at: datetime | None
    failures: list[tuple[str, str]]  # (community, error)

    @property
    def finished(self) -> bool:
        return self.pending == 0

    def time_left(self, now: datetime) -> timedelta | None:
        """From the pace so far; None before the first message went out."""
        done = self.sent + self.failed
        if not done or not self.pending:
            return None
        return (now - self.started_at) * (self.pending / done)


@unit_of_work
async def start(session: AsyncSession, actor: Actor, text: str, now: datetime) -> Progress:
    """Queue `text` for every active community."""
    actor.require_admin()
    if len(text) > MAX_TEXT:
        raise TextTooLong(MAX_TEXT)
    communities = (await session.scalars(select(Community).where(Community.active.is_(True)))).all()
    if not communities:
        raise NoActiveCommunities()
    broadcast = Broadcast(admin_id=actor.user_id, text=text, total=len(communities), created_at=now)
    session.add(broadcast)
    await session.flush()
    await outbox.enqueue(
        session,
        [
            outbox.Notice(
                BroadcastNotice(text=broadcast.text),
                chat_id=community.chat_id,
                community_id=community.id,
                broadcast_id=broadcast.id,
                dedupe_key=f"broadcast:{broadcast.id}:{community.id}",
            )
            for community in communities
        ],
        now,
    )
    return await _progress(session, broadcast)


@housekeeping
async def attach_status(session: AsyncSession, broadcast_id: int, message_id: int) -> None:
    """The admin's status message, edited as the broadcast goes out."""
    await session.execute(
        update(Broadcast).where(Broadcast.id == broadcast_id).values(status_message_id=message_id)
    )


@housekeeping
async def claim_status_edit(
    session: AsyncSession, broadcast_id: int, shown_hash: str, now: datetime, gap: timedelta
) -> bool:
    """Whether this caller should edit the status message to show `shown_hash`: it shows
    something else, and nobody edited it within `gap`. Claimed before the edit: a lost edit costs
    one stale figure for a few seconds (the final report is durable), a doubled one the budget."""
    result = await session.execute(
        update(Broadcast)
        .where(
            Broadcast.id == broadcast_id,
            or_(Broadcast.shown_hash.is_(None), Broadcast.shown_hash != shown_hash),
            or_(Broadcast.shown_at.is_(None), Broadcast.shown_at <= now - gap),
        )
        .values(shown_hash=shown_hash, shown_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


@unit_of_work
async def stop(session: AsyncSession, actor: Actor, broadcast_id: int, now: datetime) -> Progress:
    """The admin's Stop: whatever has not gone out yet never will."""
    actor.require_admin()
    broadcast = await session.get(Broadcast, broadcast_id, with_for_update=True)
    if broadcast is None:
        raise BroadcastNotFound(broadcast_id)
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.broadcast_id == broadcast_id, OutboxMessage.state.in_(_STOPPABLE))
        .values(state=OutboxState.CANCELLED)
        .execution_options(synchronize_session=False)
    )
    if broadcast.stopped_at is None:
        broadcast.stopped_at = now
    await session.flush()
    await _report_if_done(session, broadcast_id, now)
    return await _progress(session, broadcast)


@read_only
async def in_progress(session: AsyncSession) -> list[Progress]:
    """Broadcasts whose status message still shows progress."""
    rows = (
        await session.scalars(
            select(Broadcast).where(
                Broadcast.reported_at.is_(None), Broadcast.status_message_id.is_not(None)
            )
        )
    ).all()
    return [await _progress(session, row) for row in rows]


@read_only
async def report(session: AsyncSession, broadcast_id: int) -> Progress:
    broadcast = await session.get(Broadcast, broadcast_id)
    if broadcast is None:
        raise BroadcastNotFound(broadcast_id)
    return await _progress(session, broadcast)


async def _progress(session: AsyncSession, broadcast: Broadcast) -> Progress:
    counts = dict(
        (
            await session.execute(
                select(OutboxMessage.state, func.count())
                .where(
                    OutboxMessage.broadcast_id == broadcast.id,
                    OutboxMessage.kind == notices.Kind.BROADCAST.value,
                )
                .group_by(OutboxMessage.state)
            )
        ).all()
    )
    failures = (
        await session.execute(
            select(Community.name, OutboxMessage.error)
            .join(Community, Community.id == OutboxMessage.community_id)
            .where(
                OutboxMessage.broadcast_id == broadcast.id,
                OutboxMessage.state == OutboxState.FAILED,
            )
            .order_by(Community.name)
            .limit(30)
        )
    ).all()
    return Progress(
        broadcast_id=broadcast.id,
        admin_id=broadcast.admin_id,
        status_message_id=broadcast.status_message_id,
        total=broadcast.total,
        sent=int(counts.get(OutboxState.SENT, 0)),
        failed=int(counts.get(OutboxState.FAILED, 0)),
        cancelled=int(counts.get(OutboxState.CANCELLED, 0)),
        pending=sum(int(counts.get(state, 0)) for state in _UNFINISHED),
        started_at=broadcast.created_at,
        stopped_at=broadcast.stopped_at,
        failures=[(name, error or "") for name, error in failures],
    )


@housekeeping
async def after_delivery(session: AsyncSession, broadcast_ids: set[int], now: datetime) -> None:
    """Queue the admin's report once every message of the broadcast was sent or failed."""
    for broadcast_id in broadcast_ids:
        await _report_if_done(session, broadcast_id, now)


async def _report_if_done(session: AsyncSession, broadcast_id: int, now: datetime) -> None:
    pending = await session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(
            OutboxMessage.broadcast_id == broadcast_id,
            OutboxMessage.kind == notices.Kind.BROADCAST.value,
            OutboxMessage.state.in_(_UNFINISHED),
        )
    )
    if pending:
        return
    claimed = await session.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast_id, Broadcast.reported_at.is_(None))
        .values(reported_at=now)
        .returning(Broadcast.admin_id)
    )
    admin_id = claimed.scalar_one_or_none()
    if admin_id is None:
        return
    await outbox.enqueue(
        session,
        [
            outbox.Notice(
                BroadcastReportNotice(broadcast_id=broadcast_id),
                chat_id=admin_id,
                user_id=admin_id,
                broadcast_id=broadcast_id,
                dedupe_key=f"broadcast-report:{broadcast_id}",
            )
        ],
        now,
    )
