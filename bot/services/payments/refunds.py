"""Refunds owed: exactly what was paid and not delivered, until an admin says it was made.

Telegram cannot refund a card payment: the admin refunds at the payment provider, then marks it
done here (`/refunded`), and the resident is told. What is owed is listed oldest first
(`/refunds`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.community.people import Actor
from bot.services.kernel import effects, outbox
from bot.services.kernel.errors import RefundNotFound
from bot.services.kernel.uow import read_only, unit_of_work
from bot.services.notices import RefundedNotice
from bot.services.payments.amounts import STARS, charge_amount
from models import Community, DropItem, GroupBuy, Order, Payment, Refund, RefundReason, User

LISTED = 50  # /refunds shows the oldest this many; the rest are counted


async def owe(
    session: AsyncSession, order: Order, reason: RefundReason, now: datetime, amount: int | None
) -> int:
    """In the caller's transaction: refunds owed for `order`'s payments, up to `amount` (minor
    units of its price; all that was paid when None). Returns what is owed: nothing for an order
    not paid in advance."""
    if order.paid_at is None:
        return 0
    payments = (
        await session.scalars(
            select(Payment).where(Payment.order_id == order.id).order_by(Payment.id.desc())
        )
    ).all()
    refunded: dict[int, int] = dict(
        (
            await session.execute(
                select(Refund.payment_id, func.sum(Refund.amount))
                .where(Refund.order_id == order.id)
                .group_by(Refund.payment_id)
            )
        ).all()
    )
    remaining = amount
    owed = 0
    for payment in payments:
        left = payment.amount - refunded.get(payment.id, 0)
        # In the payment's own units (Stars are whole): what is left of `amount` to give back.
        give = left if remaining is None else min(left, charge_amount(remaining, payment.currency))
        if give <= 0:
            continue
        _add(session, payment, give, reason, now)
        owed += give
        if remaining is not None:
            remaining -= give if payment.currency != STARS else give * 100
            remaining = max(remaining, 0)
    await session.flush()
    return owed


async def owe_payment(
    session: AsyncSession, payment: Payment, reason: RefundReason, now: datetime
) -> int:
    """In the caller's transaction: a payment just recorded that cannot be honoured (late, a
    second one, for no known order) is owed back whole, in its own units."""
    _add(session, payment, payment.amount, reason, now)
    await session.flush()
    return payment.amount


def _add(
    session: AsyncSession, payment: Payment, amount: int, reason: RefundReason, now: datetime
) -> None:
    session.add(
        Refund(
            payment_id=payment.id,
            order_id=payment.order_id,
            user_id=payment.user_id,
            amount=amount,
            currency=payment.currency,
            reason=reason,
            owed_at=now,
        )
    )
    if payment.currency == STARS:
        effects.wake_at(session, [now])  # refunded through the Bot API at once (see below)


@dataclass(frozen=True)
class OwedRefund:
    refund_id: int
    owed_at: datetime
    resident: str
    user_id: int
    community: str
    number: int
    name: str
    amount: int
    currency: str
    reason: RefundReason
    telegram_charge_id: str
    provider_charge_id: str | None


@dataclass(frozen=True)
class OwedList:
    refunds: list[OwedRefund]
    count: int
    total: dict[str, int]  # by currency


def _owed_query() -> Any:
    return (
        select(Refund, User, Community.name, GroupBuy.number, DropItem.name, Payment)
        .join(Payment, Payment.id == Refund.payment_id)
        .join(User, User.id == Refund.user_id)
        # A payment for no known order has no item: listed all the same.
        .outerjoin(Order, Order.id == Refund.order_id)
        .outerjoin(GroupBuy, GroupBuy.id == Order.group_buy_id)
        .outerjoin(DropItem, DropItem.id == GroupBuy.drop_item_id)
        .outerjoin(Community, Community.id == GroupBuy.community_id)
        .where(Refund.done_at.is_(None))
    )


def _listed(row: Any) -> OwedRefund:
    refund, user, community, number, name, payment = row
    return OwedRefund(
        refund.id,
        refund.owed_at,
        user.first_name + (f" {user.last_name}" if user.last_name else ""),
        user.id,
        community or "",
        number or 0,
        name or "",
        refund.amount,
        refund.currency,
        refund.reason,
        payment.telegram_charge_id,
        payment.provider_charge_id,
    )


def _done(refund: OwedRefund) -> outbox.Notice:
    """The resident's news that their refund was made."""
    return outbox.Notice(
        RefundedNotice(
            community=refund.community,
            number=refund.number,
            name=refund.name,
            amount=refund.amount,
            currency=refund.currency,
        ),
        chat_id=refund.user_id,
        user_id=refund.user_id,
        dedupe_key=f"refunded:{refund.refund_id}",
    )


@read_only
async def owed(session: AsyncSession, actor: Actor) -> OwedList:
    """/refunds: what is owed, oldest first."""
    actor.require_admin()
    rows = (await session.execute(_owed_query().order_by(Refund.owed_at, Refund.id))).all()
    total: dict[str, int] = {}
    for refund, *_ in rows:
        total[refund.currency] = total.get(refund.currency, 0) + refund.amount
    return OwedList([_listed(row) for row in rows[:LISTED]], len(rows), total)


@unit_of_work
async def mark_refunded(
    session: AsyncSession,
    actor: Actor,
    now: datetime,
    *,
    refund_id: int | None = None,
    day: date | None = None,
    zone: ZoneInfo | None = None,
) -> list[OwedRefund]:
    """/refunded <id>, or every refund owed on `day` (local), or all owed: done, and each
    resident told. Refuses an id that is not owed."""
    actor.require_admin()
    query = _owed_query().order_by(Refund.owed_at, Refund.id).with_for_update(of=Refund)
    if refund_id is not None:
        query = query.where(Refund.id == refund_id)
    if day is not None:
        start = datetime.combine(day, time(), zone).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
        query = query.where(Refund.owed_at >= start, Refund.owed_at < start + timedelta(days=1))
    rows = (await session.execute(query)).all()
    if refund_id is not None and not rows:
        raise RefundNotFound(refund_id)
    for refund, *_ in rows:
        refund.done_at, refund.done_by = now, actor.user_id
    done = [_listed(row) for row in rows]
    await outbox.enqueue(session, [_done(refund) for refund in done], now)
    return done


# -- Telegram Stars: refunded through the Bot API, whole, without an admin --------------------


@dataclass(frozen=True)
class StarRefund:
    refund_id: int
    user_id: int
    telegram_charge_id: str


@read_only
async def star_refunds_due(session: AsyncSession) -> list[StarRefund]:
    """Refunds owed in Stars that give back their whole payment (Telegram refunds a Stars payment
    only whole; a part of one stays owed for an admin to settle)."""
    given = (
        select(Refund.payment_id, func.sum(Refund.amount).label("total"))
        .group_by(Refund.payment_id)
        .subquery()
    )
    rows = await session.execute(
        select(Refund.id, Refund.user_id, Payment.telegram_charge_id)
        .join(Payment, Payment.id == Refund.payment_id)
        .join(given, given.c.payment_id == Payment.id)
        .where(
            Refund.done_at.is_(None),
            Refund.currency == STARS,
            given.c.total == Payment.amount,
        )
        .order_by(Refund.id)
    )
    return [StarRefund(*row) for row in rows]


@unit_of_work
async def star_refund_made(session: AsyncSession, refund_id: int, now: datetime) -> None:
    """Telegram gave the Stars back: done, and the resident told."""
    found = (
        await session.execute(
            _owed_query().where(Refund.id == refund_id).with_for_update(of=Refund)
        )
    ).first()
    if found is None:
        return  # done already (a repeat after a crash)
    found[0].done_at = now
    await outbox.enqueue(session, [_done(_listed(found))], now)
