"""Orders and sales per day: the figures behind `/report` and the charts of `/commission` and
`/communities`.

An order counts on the local day it was placed, unless it was cancelled or its group-buy failed;
its sales are what was (or will be) delivered, at the price of joining.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.community.people import Actor
from bot.services.kernel.sql import local_day
from bot.services.kernel.uow import read_only
from models import Community, GroupBuy, Order, OrderState

MAX_DAYS = 365
TOP_COMMUNITIES = 3
_COUNTED = [s for s in OrderState if s not in (OrderState.CANCELLED, OrderState.FAILED)]


@dataclass(frozen=True)
class Series:
    name: str
    orders: tuple[int, ...]  # one per day, oldest first
    sales: tuple[int, ...]  # minor units

    @property
    def total_orders(self) -> int:
        return sum(self.orders)

    @property
    def total_sales(self) -> int:
        return sum(self.sales)


@dataclass(frozen=True)
class DailyReport:
    first_day: date
    days: int
    total: Series  # the platform, or every community asked for
    communities: tuple[Series, ...]  # each community asked for, or the platform's top ones

    @property
    def dates(self) -> list[date]:
        return [self.first_day + timedelta(days=n) for n in range(self.days)]

    @property
    def best_day(self) -> date | None:
        if not self.total.total_orders:
            return None
        best = max(range(self.days), key=lambda n: (self.total.sales[n], self.total.orders[n]))
        return self.first_day + timedelta(days=best)


@read_only
async def daily(
    session: AsyncSession,
    actor: Actor,
    community_ids: list[int] | None,
    days: int,
    tz: ZoneInfo,
    now: datetime,
) -> DailyReport:
    """The last `days` days up to today: for these communities (a leader's), or the whole
    platform and its top communities (None, admins only)."""
    if community_ids is None:
        actor.require_admin()
    offset = now.astimezone(tz).utcoffset() or timedelta()
    today = now.astimezone(tz).date()
    first = today - timedelta(days=days - 1)
    day = local_day(session, Order.joined_at, offset).label("day")
    query = (
        select(
            GroupBuy.community_id,
            day,
            func.count(Order.id),
            func.sum((Order.quantity - Order.short_quantity) * Order.unit_price),
        )
        .join(GroupBuy, GroupBuy.id == Order.group_buy_id)
        .where(
            Order.state.in_(_COUNTED),
            # A day's margin either side of the local days; rows outside are dropped below.
            Order.joined_at >= datetime.combine(first, time(), UTC) - timedelta(days=1),
        )
        .group_by(GroupBuy.community_id, day)
    )
    if community_ids is not None:
        query = query.where(GroupBuy.community_id.in_(community_ids))
    per: dict[int, tuple[list[int], list[int]]] = {}
    for community_id, raw_day, orders, sales in await session.execute(query):
        index = (date.fromisoformat(str(raw_day)[:10]) - first).days
        if 0 <= index < days:
            counts, amounts = per.setdefault(community_id, ([0] * days, [0] * days))
            counts[index] += int(orders)
            amounts[index] += int(sales or 0)
    named = select(Community.id, Community.name)
    if community_ids is not None:
        named = named.where(Community.id.in_(community_ids))
    names: dict[int, str] = dict((await session.execute(named)).all())
    shown = list(community_ids) if community_ids is not None else list(per)
    series = [
        Series(names.get(cid, "?"), *map(tuple, per.get(cid, ([0] * days, [0] * days))))
        for cid in shown
    ]
    total = Series(
        "",
        tuple(sum(s.orders[n] for s in series) for n in range(days)),
        tuple(sum(s.sales[n] for s in series) for n in range(days)),
    )
    if community_ids is None:
        series = sorted(series, key=lambda s: s.total_sales, reverse=True)[:TOP_COMMUNITIES]
    return DailyReport(first, days, total, tuple(series))
