"""/status: the health of delivery, for admins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.community.people import Actor
from bot.services.kernel.uow import read_only
from models import DeliveryEvent, Order, OrderState, OutboxMessage, OutboxState, User


@dataclass(frozen=True)
class DeliveryStatus:
    queued: dict[str, int]  # pending messages by kind
    oldest_queued_at: datetime | None
    held: int  # waiting for users who must open the private chat
    held_users: int
    sent_last_hour: int
    failed_last_hour: int
    telegram_last_hour: dict[str, int]  # "429", "403", "400", "5xx", "network"
    unreachable_users: int
    last_failure: str | None
    reservations_held: int = 0  # prepaid items joined and not paid yet
    reservations_lapsed: int = 0  # of those, let go unpaid in the last day


@read_only
async def status(session: AsyncSession, actor: Actor, now: datetime) -> DeliveryStatus:
    actor.require_admin()
    hour_ago = now - timedelta(hours=1)
    queued = dict(
        (
            await session.execute(
                select(OutboxMessage.kind, func.count())
                .where(OutboxMessage.state.in_([OutboxState.PENDING, OutboxState.SENDING]))
                .group_by(OutboxMessage.kind)
            )
        ).all()
    )
    oldest = await session.scalar(
        select(func.min(OutboxMessage.created_at)).where(OutboxMessage.state == OutboxState.PENDING)
    )
    held, held_users = (
        await session.execute(
            select(func.count(), func.count(func.distinct(OutboxMessage.user_id))).where(
                OutboxMessage.state == OutboxState.BLOCKED
            )
        )
    ).one()
    sent = await session.scalar(
        select(func.count()).where(
            OutboxMessage.state == OutboxState.SENT, OutboxMessage.sent_at >= hour_ago
        )
    )
    failed = await session.scalar(
        select(func.count()).where(
            OutboxMessage.state == OutboxState.FAILED, OutboxMessage.created_at >= hour_ago
        )
    )
    telegram = dict(
        (
            await session.execute(
                select(DeliveryEvent.kind, func.count())
                .where(DeliveryEvent.at >= hour_ago)
                .group_by(DeliveryEvent.kind)
            )
        ).all()
    )
    unreachable = await session.scalar(
        select(func.count()).select_from(User).where(User.unreachable_at.is_not(None))
    )
    last_failure = await session.scalar(
        select(OutboxMessage.error)
        .where(OutboxMessage.state == OutboxState.FAILED)
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    )
    held_now, lapsed = (
        await session.execute(
            select(
                func.count().filter(Order.state == OrderState.RESERVED),
                func.count().filter(
                    Order.state == OrderState.LAPSED, Order.updated_at >= now - timedelta(days=1)
                ),
            ).where(Order.state.in_([OrderState.RESERVED, OrderState.LAPSED]))
        )
    ).one()
    return DeliveryStatus(
        queued={str(kind): int(count) for kind, count in queued.items()},
        oldest_queued_at=oldest,
        held=int(held or 0),
        held_users=int(held_users or 0),
        sent_last_hour=int(sent or 0),
        failed_last_hour=int(failed or 0),
        telegram_last_hour={str(k): int(v) for k, v in telegram.items()},
        unreachable_users=int(unreachable or 0),
        last_failure=last_failure,
        reservations_held=int(held_now or 0),
        reservations_lapsed=int(lapsed or 0),
    )
