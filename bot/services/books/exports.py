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
from models import Community, DropItem, GroupBuy, LedgerEntry, LedgerKind, Order, User

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


@dataclass(frozen=True)
class Payment:
    at: datetime
    amount: int


@dataclass(frozen=True)
class Statement:
    community: str
    start: datetime
    end: datetime
    lines: list[CommissionLine]  # oldest first
    payouts: list[Payment]
    balance_before: int  # unsettled at the start of the month

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
    return Statement(
        community=community.name,
        start=start,
        end=end,
        lines=list(reversed(lines)),
        payouts=[Payment(p.at, p.amount) for p in payouts],
        balance_before=totals.get(LedgerKind.COMMISSION, 0) - totals.get(LedgerKind.PAYOUT, 0),
    )
