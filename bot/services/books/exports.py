"""Exports: the admin's orders file (/export) and a leader's monthly statement (/statement).

Both read the same ledger as /commission and /points, so every total in them is the sum of their
own lines.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.books.ledger import CommissionLine, commission_lines
from bot.services.community.communities import CommunityRef
from bot.services.community.people import Actor, UserRef
from bot.services.kernel.uow import read_only
from bot.services.kernel.views import orders_with_items
from models import (
    Community,
    DropItem,
    GroupBuy,
    LedgerEntry,
    LedgerKind,
    Order,
    Payment,
    Refund,
    User,
)

MAX_ROWS = 100_000  # one file; a longer period is exported in parts


@dataclass(frozen=True)
class OrderRow:
    order_id: int
    community: str
    resident_id: int
    resident: str
    number: int
    item: str
    unit_price: int
    quantity: int
    short: int
    amount: int  # what is owed (`Order.owed`): what arrives of a formed order
    refunded: int  # an approved return
    state: str
    joined_at: datetime
    updated_at: datetime
    picked_up_at: datetime | None
    commission: int  # the order's commission entries, summed
    points: int
    # Paid in advance (Telegram Payments), and of it what was given back and what is still owed.
    paid: int = 0
    refunds_made: int = 0
    refunds_owed: int = 0


@read_only
async def orders_between(
    session: AsyncSession, actor: Actor, start: datetime, end: datetime
) -> list[OrderRow]:
    """Orders joined in [start, end), oldest first."""
    actor.require_admin()
    rows = (
        await session.execute(
            orders_with_items(Order, GroupBuy.number, DropItem.name, Community.name, User)
            .join(Community, Community.id == GroupBuy.community_id)
            .join(User, User.id == Order.user_id)
            .where(Order.joined_at >= start, Order.joined_at < end)
            .order_by(Order.joined_at, Order.id)
            .limit(MAX_ROWS)
        )
    ).all()
    earned = await _earned(session, [order.id for order, *_ in rows])
    money = await _money(session, [order.id for order, *_ in rows])
    return [
        OrderRow(
            order_id=order.id,
            community=community,
            resident_id=user.id,
            resident=UserRef.of(user).display_name,
            number=number or 0,
            item=item,
            unit_price=order.unit_price,
            quantity=order.quantity,
            short=order.short_quantity,
            amount=order.owed,
            refunded=order.refunded,
            state=order.state.value,
            joined_at=order.joined_at,
            updated_at=order.updated_at,
            picked_up_at=order.picked_up_at,
            commission=earned[(order.id, LedgerKind.COMMISSION)],
            points=earned[(order.id, LedgerKind.POINTS)],
            paid=money[(order.id, "paid")],
            refunds_made=money[(order.id, "made")],
            refunds_owed=money[(order.id, "owed")],
        )
        for order, number, item, community, user in rows
    ]


async def _earned(session: AsyncSession, order_ids: list[int]) -> dict[tuple[int, str], int]:
    earned: dict[tuple[int, str], int] = defaultdict(int)
    for start in range(0, len(order_ids), 500):
        chunk = order_ids[start : start + 500]
        rows = await session.execute(
            select(LedgerEntry.order_id, LedgerEntry.kind, func.sum(LedgerEntry.amount))
            .where(LedgerEntry.order_id.in_(chunk))
            .group_by(LedgerEntry.order_id, LedgerEntry.kind)
        )
        for order_id, kind, total in rows:
            if order_id is not None:
                earned[(order_id, kind)] = int(total)
    return earned


async def _money(session: AsyncSession, order_ids: list[int]) -> dict[tuple[int, str], int]:
    """Per order: paid in advance, refunds made, refunds owed."""
    totals: dict[tuple[int, str], int] = defaultdict(int)
    for start in range(0, len(order_ids), 500):
        chunk = order_ids[start : start + 500]
        paid = await session.execute(
            select(Payment.order_id, func.sum(Payment.amount))
            .where(Payment.order_id.in_(chunk))
            .group_by(Payment.order_id)
        )
        for order_id, total in paid:
            if order_id is not None:
                totals[(order_id, "paid")] = int(total)
        refunded = await session.execute(
            select(Refund.order_id, Refund.done_at.is_(None), func.sum(Refund.amount))
            .where(Refund.order_id.in_(chunk))
            .group_by(Refund.order_id, Refund.done_at.is_(None))
        )
        for order_id, owed, total in refunded:
            if order_id is not None:
                totals[(order_id, "owed" if owed else "made")] += int(total)
    return totals


@dataclass(frozen=True)
class Payout:
    at: datetime
    amount: int


@dataclass(frozen=True)
class Statement:
    community: str
    start: datetime
    end: datetime
    lines: list[CommissionLine]  # oldest first
    payouts: list[Payout]
    balance_before: int  # unsettled at the start of the month
    # Residents' money paid in advance for the community's orders this month, and what of the
    # month's refunds was made or is still owed.
    prepaid: int = 0
    refunds_made: int = 0
    refunds_owed: int = 0

    # The rest is computed from the lines, so the statement always adds up.
    @property
    def earned(self) -> int:
        return sum(line.commission for line in self.lines)

    @property
    def paid(self) -> int:
        return sum(p.amount for p in self.payouts)

    @property
    def balance_after(self) -> int:
        return self.balance_before + self.earned - self.paid


@read_only
async def statement(
    session: AsyncSession, actor: Actor, community: CommunityRef, start: datetime, end: datetime
) -> Statement:
    community.require_leader(actor)
    lines = await commission_lines(session, community.id, start, end)
    payouts = (
        await session.scalars(
            select(LedgerEntry)
            .where(
                LedgerEntry.kind == LedgerKind.PAYOUT,
                LedgerEntry.community_id == community.id,
                LedgerEntry.at >= start,
                LedgerEntry.at < end,
            )
            .order_by(LedgerEntry.at, LedgerEntry.id)
        )
    ).all()
    before = await session.execute(
        select(LedgerEntry.kind, func.sum(LedgerEntry.amount))
        .where(
            LedgerEntry.community_id == community.id,
            LedgerEntry.kind.in_([LedgerKind.COMMISSION, LedgerKind.PAYOUT]),
            LedgerEntry.at < start,
        )
        .group_by(LedgerEntry.kind)
    )
    totals = {kind: int(total) for kind, total in before}
    prepaid = await session.scalar(
        select(func.coalesce(func.sum(Payment.amount), 0))
        .join(Order, Order.id == Payment.order_id)
        .join(GroupBuy, GroupBuy.id == Order.group_buy_id)
        .where(
            GroupBuy.community_id == community.id, Payment.paid_at >= start, Payment.paid_at < end
        )
    )
    refunds: dict[bool, int] = defaultdict(int)
    for owed, total in await session.execute(
        select(Refund.done_at.is_(None), func.sum(Refund.amount))
        .join(Order, Order.id == Refund.order_id)
        .join(GroupBuy, GroupBuy.id == Order.group_buy_id)
        .where(GroupBuy.community_id == community.id, Refund.owed_at >= start, Refund.owed_at < end)
        .group_by(Refund.done_at.is_(None))
    ):
        refunds[bool(owed)] += int(total)
    return Statement(
        community=community.name,
        start=start,
        end=end,
        lines=list(reversed(lines)),
        payouts=[Payout(p.at, p.amount) for p in payouts],
        balance_before=totals.get(LedgerKind.COMMISSION, 0) - totals.get(LedgerKind.PAYOUT, 0),
        prepaid=int(prepaid or 0),
        refunds_made=refunds[False],
        refunds_owed=refunds[True],
    )
