"""The books: leader commission, payouts and residents' points, as ledger entries.

- On pickup, each order handed over earns the community's leader `amount × rate` (rounded down
  to the fen, per order) and, for items that earn points, the resident 1 point per whole unit of
  currency paid (`amount // 100`). Both are entries that name the order.
- An undone handover or an approved return adds the opposite entries (the order's entries sum
  to zero again); nothing is ever edited or deleted.
- A payout (/settle) is an entry against the leader's unsettled balance.

Every total shown is a sum of entries, so for any period the sum over orders equals the totals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.community.communities import CommunityRef
from bot.services.community.people import Actor
from bot.services.kernel import outbox
from bot.services.kernel.errors import CommunityUnknown, NothingToSettle, SettleTooMuch
from bot.services.kernel.uow import read_only, unit_of_work
from bot.services.kernel.views import orders_with_items
from bot.services.notices import PayoutNotice
from models import Community, DropItem, GroupBuy, LedgerEntry, LedgerKind, Order

POINT_VALUE = 100  # minor units of currency per point
HISTORY = 20  # lines of history in a chat answer; exports carry everything


def commission_on(amount: int, rate: int) -> int:
    """A leader's commission on an amount (minor units) at `rate` basis points, rounded down."""
    return amount * rate // 10_000


async def credit_pickup(
    session: AsyncSession, community_id: int, order_ids: Sequence[int], now: datetime
) -> None:
    """In the handover's transaction: commission and points for the orders handed over."""
    community = await session.get(Community, community_id)
    assert community is not None
    rows = (
        await session.execute(
            orders_with_items(Order, DropItem.earns_points).where(Order.id.in_(order_ids))
        )
    ).all()
    for order, earns_points in rows:
        paid = order.delivered * order.unit_price
        entries = [
            LedgerEntry(
                kind=LedgerKind.COMMISSION,
                community_id=community_id,
                user_id=community.leader_id,
                order_id=order.id,
                amount=commission_on(paid, community.commission_rate),
                reason="pickup",
                at=now,
            )
        ]
        if earns_points and paid >= POINT_VALUE:
            entries.append(
                LedgerEntry(
                    kind=LedgerKind.POINTS,
                    community_id=community_id,
                    user_id=order.user_id,
                    order_id=order.id,
                    amount=paid // POINT_VALUE,
                    reason="pickup",
                    at=now,
                )
            )
        session.add_all(entries)
    await session.flush()


async def reverse(
    session: AsyncSession, order_ids: Sequence[int], reason: str, now: datetime
) -> None:
    """In the caller's transaction: cancel what these orders earned (undo, return)."""
    rows = (
        await session.execute(
            select(
                LedgerEntry.kind,
                LedgerEntry.community_id,
                LedgerEntry.user_id,
                LedgerEntry.order_id,
                func.sum(LedgerEntry.amount),
            )
            .where(
                LedgerEntry.order_id.in_(order_ids),
                LedgerEntry.kind.in_([LedgerKind.COMMISSION, LedgerKind.POINTS]),
            )
            .group_by(
                LedgerEntry.kind,
                LedgerEntry.community_id,
                LedgerEntry.user_id,
                LedgerEntry.order_id,
            )
        )
    ).all()
    session.add_all(
        LedgerEntry(
            kind=kind,
            community_id=community_id,
            user_id=user_id,
            order_id=order_id,
            amount=-int(total),
            reason=reason,
            at=now,
        )
        for kind, community_id, user_id, order_id, total in rows
        if total
    )
    await session.flush()


# -- What the leader sees ------------------------------------------------------------------


@dataclass(frozen=True)
class CommissionLine:
    at: datetime
    number: int
    item: str
    resident_id: int
    amount: int  # the order's amount (minor units)
    commission: int  # signed: a reversal is negative
    reason: str


@dataclass(frozen=True)
class CommissionReport:
    community: str
    rate: int  # basis points
    earned: int
    settled: int
    this_month: int
    lines: list[CommissionLine]  # newest first

    @property
    def unsettled(self) -> int:
        return self.earned - self.settled


def month_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The first instant of `day`'s month and of the next, in `tz`."""
    start = day.replace(day=1)
    following = (start + timedelta(days=32)).replace(day=1)
    return (
        datetime.combine(start, time(), tz),
        datetime.combine(following, time(), tz),
    )


async def _sum(session: AsyncSession, kind: LedgerKind, *where: ColumnElement[bool]) -> int:
    total = await session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
            LedgerEntry.kind == kind, *where
        )
    )
    return int(total or 0)


@read_only
async def commission(
    session: AsyncSession, actor: Actor, community: CommunityRef, now: datetime
) -> CommissionReport:
    community.require_leader(actor)
    here = LedgerEntry.community_id == community.id
    start, end = month_bounds(now.astimezone(community.tz).date(), community.tz)
    earned = await _sum(session, LedgerKind.COMMISSION, here)
    settled = await _sum(session, LedgerKind.PAYOUT, here)
    month = await _sum(
        session, LedgerKind.COMMISSION, here, LedgerEntry.at >= start, LedgerEntry.at < end
    )
    lines = await commission_lines(session, community.id, None, None, limit=HISTORY)
    return CommissionReport(
        community.name, community.commission_rate, earned, settled, month, lines
    )


async def commission_lines(
    session: AsyncSession,
    community_id: int,
    start: datetime | None,
    end: datetime | None,
    *,
    limit: int | None = None,
) -> list[CommissionLine]:
    query = (
        select(LedgerEntry, Order, GroupBuy.number, DropItem.name)
        .join(Order, Order.id == LedgerEntry.order_id)
        .join(GroupBuy, GroupBuy.id == Order.group_buy_id)
        .join(DropItem, DropItem.id == GroupBuy.drop_item_id)
        .where(LedgerEntry.kind == LedgerKind.COMMISSION, LedgerEntry.community_id == community_id)
        .order_by(LedgerEntry.at.desc(), LedgerEntry.id.desc())
    )
    if start is not None:
        query = query.where(LedgerEntry.at >= start)
    if end is not None:
        query = query.where(LedgerEntry.at < end)
    if limit is not None:
        query = query.limit(limit)
    rows = (await session.execute(query)).all()
    return [
        CommissionLine(
            entry.at,
            number or 0,
            name,
            order.user_id,
            order.delivered * order.unit_price,
            entry.amount,
            entry.reason,
        )
        for entry, order, number, name in rows
    ]


# -- Payouts -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Payout:
    community: str
    leader_id: int | None
    amount: int
    unsettled: int  # left after this payout


@unit_of_work
async def settle(
    session: AsyncSession, actor: Actor, community_id: int, amount: int | None, now: datetime
) -> Payout:
    """/settle: record a payout to the community's leader (default: all that is unsettled)."""
    actor.require_admin()
    community = await session.get(Community, community_id, with_for_update=True)
    if community is None:
        raise CommunityUnknown(community_id)
    here = LedgerEntry.community_id == community.id
    unsettled = await _sum(session, LedgerKind.COMMISSION, here) - await _sum(
        session, LedgerKind.PAYOUT, here
    )
    if unsettled <= 0:
        raise NothingToSettle(community.name)
    paid = unsettled if amount is None else amount
    if paid > unsettled:
        raise SettleTooMuch(community.name, unsettled)
    entry = LedgerEntry(
        kind=LedgerKind.PAYOUT,
        community_id=community.id,
        user_id=community.leader_id,
        amount=paid,
        reason="payout",
        at=now,
        by=actor.user_id,
    )
    session.add(entry)
    await session.flush()
    if community.leader_id is not None:
        notice = outbox.Notice(
            PayoutNotice(community=community.name, amount=paid, unsettled=unsettled - paid),
            chat_id=community.leader_id,
            user_id=community.leader_id,
            community_id=community.id,
            dedupe_key=f"payout:{entry.id}",
        )
        await outbox.enqueue(session, [notice], now)
    return Payout(community.name, community.leader_id, paid, unsettled - paid)


# -- Points --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PointsLine:
    at: datetime
    community: str
    item: str
    points: int
    reason: str


@dataclass(frozen=True)
class PointsReport:
    balance: int
    lines: list[PointsLine]  # newest first


@read_only
async def points(session: AsyncSession, user_id: int) -> PointsReport:
    balance = await _sum(session, LedgerKind.POINTS, LedgerEntry.user_id == user_id)
    rows = (
        await session.execute(
            select(LedgerEntry, Community.name, DropItem.name)
            .join(Community, Community.id == LedgerEntry.community_id)
            .join(Order, Order.id == LedgerEntry.order_id)
            .join(GroupBuy, GroupBuy.id == Order.group_buy_id)
            .join(DropItem, DropItem.id == GroupBuy.drop_item_id)
            .where(LedgerEntry.kind == LedgerKind.POINTS, LedgerEntry.user_id == user_id)
            .order_by(LedgerEntry.at.desc(), LedgerEntry.id.desc())
            .limit(HISTORY)
        )
    ).all()
    return PointsReport(
        balance,
        [PointsLine(e.at, community, item, e.amount, e.reason) for e, community, item in rows],
    )
