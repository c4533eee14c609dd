"""Admin broadcasts: the same text to every active community group, then a report to the admin."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import outbox
from bot.services.errors import NoActiveCommunities
from bot.services.people import Actor
from bot.services.uow import unit_of_work
from models import Broadcast, Community, OutboxMessage, OutboxState

MAX_TEXT = 3500  # leaves room for the heading within Telegram's 4096


@dataclass(frozen=True)
class BroadcastReport:
    broadcast_id: int
    total: int
    sent: int
    failed: int
    pending: int
    failures: list[tuple[str, str]]  # (community, error)


@unit_of_work
async def start(session: AsyncSession, actor: Actor, text: str, now: datetime) -> int:
    """Queue `text` for every active community; returns how many communities."""
    actor.require_admin()
    communities = (await session.scalars(select(Community).where(Community.active.is_(True)))).all()
    if not communities:
        raise NoActiveCommunities()
    broadcast = Broadcast(
        admin_id=actor.user_id, text=text[:MAX_TEXT], total=len(communities), created_at=now
    )
    session.add(broadcast)
    await session.flush()
    await outbox.enqueue(
        session,
        [
            outbox.Notice(
                kind=outbox.Kind.BROADCAST,
                chat_id=community.chat_id,
                community_id=community.id,
                broadcast_id=broadcast.id,
                payload={"text": broadcast.text},
                dedupe_key=f"broadcast:{broadcast.id}:{community.id}",
            )
            for community in communities
        ],
        now,
    )
    return len(communities)


@unit_of_work
async def report(session: AsyncSession, broadcast_id: int) -> BroadcastReport:
    counts = dict(
        (
            await session.execute(
                select(OutboxMessage.state, func.count())
                .where(
                    OutboxMessage.broadcast_id == broadcast_id,
                    OutboxMessage.kind == outbox.Kind.BROADCAST.value,
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
                OutboxMessage.broadcast_id == broadcast_id,
                OutboxMessage.state == OutboxState.FAILED,
            )
            .order_by(Community.name)
        )
    ).all()
    total = await session.scalar(select(Broadcast.total).where(Broadcast.id == broadcast_id))
    return BroadcastReport(
        broadcast_id=broadcast_id,
        total=int(total or 0),
        sent=int(counts.get(OutboxState.SENT, 0)),
        failed=int(counts.get(OutboxState.FAILED, 0)),
        pending=int(counts.get(OutboxState.PENDING, 0)) + int(counts.get(OutboxState.BLOCKED, 0)),
        failures=[(name, error or "") for name, error in failures],
    )


@unit_of_work
async def after_delivery(session: AsyncSession, broadcast_ids: set[int], now: datetime) -> None:
    """Queue the admin's report once every message of the broadcast was sent or failed."""
    for broadcast_id in broadcast_ids:
        pending = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(
                OutboxMessage.broadcast_id == broadcast_id,
                OutboxMessage.kind == outbox.Kind.BROADCAST.value,
                OutboxMessage.state.in_([OutboxState.PENDING, OutboxState.BLOCKED]),
            )
        )
        if pending:
            continue
        claimed = await session.execute(
            update(Broadcast)
            .where(Broadcast.id == broadcast_id, Broadcast.reported_at.is_(None))
            .values(reported_at=now)
            .returning(Broadcast.admin_id)
        )
        admin_id = claimed.scalar_one_or_none()
        if admin_id is None:
            continue
        await outbox.enqueue(
            session,
            [
                outbox.Notice(
                    kind=outbox.Kind.BROADCAST_REPORT,
                    chat_id=admin_id,
                    user_id=admin_id,
                    broadcast_id=broadcast_id,
                    payload={"broadcast_id": broadcast_id},
                    dedupe_key=f"broadcast-report:{broadcast_id}",
                )
            ],
            now,
        )
