"""The shipping list: what the warehouse loads for each pickup point on a pickup date.

Grouped by delivery route (the pickup point's `route`), then community, then item, with the
quantity to hand over (shortages already reported are left out), and the totals per item for
loading the van. Items that formed count whether or not they have arrived.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.community.communities import point_of
from bot.services.community.people import Actor
from bot.services.kernel.errors import NothingToShip
from bot.services.kernel.uow import read_only
from bot.services.kernel.views import orders_with_items
from bot.services.pickup.point import PickupPoint
from models import Community, DropItem, GroupBuy, GroupBuyState, Order, OrderState

_SHIPPED_ITEMS = (GroupBuyState.FORMED, GroupBuyState.ARRIVED)
_SHIPPED_ORDERS = (OrderState.CONFIRMED, OrderState.READY, OrderState.PICKED_UP)


@dataclass(frozen=True)
class ShippingLine:
    number: int
    name: str
    unit: str | None
    quantity: int


@dataclass
class Stop:
    community: str
    point: PickupPoint
    lines: list[ShippingLine] = field(default_factory=list)


@dataclass
class Route:
    route: str | None  # None: pickup points without a route
    stops: list[Stop] = field(default_factory=list)


@dataclass(frozen=True)
class ShippingList:
    pickup_date: date
    routes: list[Route]
    totals: list[tuple[str, str | None, int]]  # item name, unit, quantity over all stops


@read_only
async def shipping_list(session: AsyncSession, actor: Actor, day: date | None) -> ShippingList:
    """/shipping [date]: for `day`, or the next pickup date with goods still to deliver."""
    actor.require_admin()
    if day is None:
        day = await session.scalar(
            select(func.min(GroupBuy.pickup_date)).where(GroupBuy.state == GroupBuyState.FORMED)
        )
    if day is None:
        raise NothingToShip(None)
    rows = (
        await session.execute(
            orders_with_items(
                GroupBuy.community_id,
                GroupBuy.number,
                DropItem.id,
                DropItem.name,
                DropItem.unit,
                func.sum(Order.delivered),
            )
            .where(
                GroupBuy.pickup_date == day,
                GroupBuy.state.in_(_SHIPPED_ITEMS),
                Order.state.in_(_SHIPPED_ORDERS),
            )
            .group_by(
                GroupBuy.community_id, GroupBuy.number, DropItem.id, DropItem.name, DropItem.unit
            )
        )
    ).all()
    places = {
        c.id: c
        for c in await session.scalars(
            select(Community).where(Community.id.in_({row[0] for row in rows}))
        )
    }
    stops: dict[int, Stop] = {}
    totals: dict[int, tuple[str, str | None, int]] = {}
    for community_id, number, item_id, name, unit, quantity in rows:
        if not quantity:
            continue
        community = places[community_id]
        stop = stops.setdefault(community.id, Stop(community.name, point_of(community)))
        stop.lines.append(ShippingLine(number or 0, name, unit, int(quantity)))
        known = totals.get(item_id, (name, unit, 0))
        totals[item_id] = (name, unit, known[2] + int(quantity))
    if not stops:
        raise NothingToShip(day)
    routes: dict[str | None, Route] = {}
    for stop in sorted(stops.values(), key=lambda s: s.community.casefold()):
        stop.lines.sort(key=lambda line: line.number)
        routes.setdefault(stop.point.route, Route(stop.point.route)).stops.append(stop)
    ordered = sorted(routes.values(), key=lambda r: (r.route is None, (r.route or "").casefold()))
    return ShippingList(day, ordered, sorted(totals.values(), key=lambda t: t[0].casefold()))
