"""The leader's side of the next day: arrival, the picking list, handing over against codes.

A pickup code is valid only in its own community. It is used up when nothing is left to hand
over against it; `/undo` within an hour brings it (and the goods' state) back.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.books import ledger
from bot.services.community.communities import CommunityRef, point_of
from bot.services.community.people import Actor, UserRef
from bot.services.kernel import outbox
from bot.services.kernel.errors import (
    CodeMalformed,
    CodeUnknown,
    CodeUsed,
    GoodsNotArrived,
    ItemNotFormed,
    NothingClosed,
    NothingToArrive,
    NothingToHandOver,
    NothingToUndo,
    UndoTooLate,
)
from bot.services.kernel.uow import read_only, unit_of_work
from bot.services.kernel.views import group_buys_with_items, orders_with_items
from bot.services.notices import PlaceLine, ReadyLine, ReadyNotice, ReminderNotice
from bot.services.pickup import guessing
from bot.services.pickup.codes import as_code
from bot.services.pickup.point import PickupPoint
from models import (
    CodeState,
    Community,
    DropItem,
    GroupBuy,
    GroupBuyState,
    Handover,
    Order,
    OrderState,
    PickupCode,
    User,
)

UNDO_WINDOW = timedelta(hours=1)
REMIND_GAP = timedelta(hours=1)  # /remind reminds a code at most this often
_DELIVERED = (OrderState.CONFIRMED, OrderState.READY, OrderState.PICKED_UP)


@dataclass(frozen=True)
class Line:
    """An item as a resident or leader sees it in a list."""

    number: int
    name: str
    unit: str | None
    quantity: int
    state: OrderState | None = None


@dataclass(frozen=True)
class Arrival:
    items: list[Line]  # quantity: the community's total of that item
    residents: int


@dataclass(frozen=True)
class HandoverResult:
    community: str
    resident: str
    items: list[Line]
    waiting: list[Line]  # under the same code, not arrived yet: the code stays valid for them
    code_used: bool


@dataclass(frozen=True)
class UndoResult:
    resident: str
    items: list[Line]


@dataclass(frozen=True)
class SummaryItem:
    number: int
    name: str
    unit: str | None
    quantity: int  # to hand over: what arrived (or is expected), shortages taken off
    buyers: int
    arrived: bool
    short: int = 0  # units reported missing (/short)


@dataclass(frozen=True)
class Summary:
    community: str
    pickup_date: date
    items: list[SummaryItem]
    residents: list[tuple[str, list[Line]]]


@dataclass(frozen=True)
class Unpicked:
    resident: str
    user_id: int
    items: list[Line]
    ready_since: datetime


@dataclass(frozen=True)
class CodeView:
    code: str
    community: str
    point: PickupPoint
    pickup_date: date
    items: list[Line]


def _name(user: User) -> str:
    return UserRef.of(user).display_name


@unit_of_work
async def confirm_arrival(
    session: AsyncSession,
    actor: Actor,
    community: CommunityRef,
    numbers: Sequence[int],
    now: datetime,
) -> Arrival:
    """/arrived [n …]: the goods of these formed items (default: all) are at the pickup point."""
    community.require_leader(actor)
    query = (
        group_buys_with_items(GroupBuy, DropItem)
        .where(GroupBuy.community_id == community.id, GroupBuy.state == GroupBuyState.FORMED)
        .order_by(GroupBuy.number)
        .with_for_update(of=GroupBuy)
    )
    if numbers:
        query = query.where(GroupBuy.number.in_(set(numbers)))
    rows = (await session.execute(query)).all()
    found = {gb.number for gb, _ in rows}
    for number in numbers:
        if number not in found:
            state = await session.scalar(
                select(GroupBuy.state)
                .where(GroupBuy.community_id == community.id, GroupBuy.number == number)
                .order_by(GroupBuy.id.desc())
                .limit(1)
            )
            raise ItemNotFormed(number, state.value if state else None)
    if not rows:
        raise NothingToArrive()
    ids = [gb.id for gb, _ in rows]
    await session.execute(
        update(GroupBuy)
        .where(GroupBuy.id.in_(ids))
        .values(state=GroupBuyState.ARRIVED, arrived_at=now)
        .execution_options(synchronize_session=False)
    )
    arrived_codes = (
        await session.scalars(
            update(Order)
            .where(Order.group_buy_id.in_(ids), Order.state == OrderState.CONFIRMED)
            .values(state=OrderState.READY, updated_at=now)
            .returning(Order.pickup_code_id)
            .execution_options(synchronize_session=False)
        )
    ).all()
    totals: dict[int, int] = dict(
        (
            await session.execute(
                select(Order.group_buy_id, func.sum(Order.delivered))
                .where(Order.group_buy_id.in_(ids), Order.state == OrderState.READY)
                .group_by(Order.group_buy_id)
            )
        ).all()
    )
    code_ids = sorted({code for code in arrived_codes if code is not None})
    notices = await ready_notices(session, community, code_ids, ReadyNotice)
    await outbox.enqueue(session, notices, now)
    return Arrival(
        items=[
            Line(gb.number or 0, item.name, item.unit, int(totals.get(gb.id, 0)))
            for gb, item in rows
        ],
        residents=len(code_ids),
    )


async def _ready_lines(
    session: AsyncSession, code_ids: Sequence[int]
) -> dict[int, list[tuple[Order, GroupBuy, DropItem]]]:
    rows = (
        await session.execute(
            orders_with_items(Order, GroupBuy, DropItem)
            .where(Order.pickup_code_id.in_(code_ids), Order.state == OrderState.READY)
            .order_by(GroupBuy.number)
        )
    ).all()
    by_code: dict[int, list[tuple[Order, GroupBuy, DropItem]]] = defaultdict(list)
    for order, gb, item in rows:
        assert order.pickup_code_id is not None
        by_code[order.pickup_code_id].append((order, gb, item))
    return by_code


def place_of(community: CommunityRef) -> PlaceLine | None:
    """The community's pickup point as a place on the map, if it has a pin."""
    if community.location is None:
        return None
    latitude, longitude = community.location
    return PlaceLine(
        latitude=latitude,
        longitude=longitude,
        title=community.name[:256],
        address=(community.point.full_address() or community.name)[:256],
    )


async def ready_notices(
    session: AsyncSession,
    community: CommunityRef,
    code_ids: Sequence[int],
    kind: type[ReadyNotice],
    dedupe_suffix: str | None = None,
) -> list[outbox.Notice]:
    """One private message per code: everything ready for it, where, and the code itself."""
    if not code_ids:
        return []
    codes = (await session.scalars(select(PickupCode).where(PickupCode.id.in_(code_ids)))).all()
    lines = await _ready_lines(session, code_ids)
    notices = []
    for code in codes:
        items = lines.get(code.id)
        if not items:
            continue
        payload = kind(
            community=community.name,
            point=community.point.as_payload(),
            place=place_of(community),
            code=code.code,
            pickup_date=code.pickup_date,
            items=[
                ReadyLine(
                    number=gb.number or 0, name=item.name, unit=item.unit, quantity=o.delivered
                )
                for o, gb, item in items
            ],
        )
        stamp = dedupe_suffix or "-".join(str(o.id) for o, _, _ in items)
        notices.append(
            outbox.Notice(
                payload,
                chat_id=code.user_id,
                user_id=code.user_id,
                community_id=community.id,
                dedupe_key=f"{kind.KIND.value}:{code.id}:{stamp}"[:160],
            )
        )
    return notices


async def _find_code(
    session: AsyncSession, code_text: str, communities: Sequence[CommunityRef] | None
) -> tuple[PickupCode, str]:
    """The code row, locked, and its community's time zone."""
    shaped = as_code(code_text)
    if shaped is None:
        raise CodeMalformed()
    code_text = shaped
    code = await session.scalar(
        select(PickupCode).where(PickupCode.code == code_text).with_for_update()
    )
    if code is None:
        raise CodeUnknown()
    if communities is not None and code.community_id not in {c.id for c in communities}:
        raise CodeUnknown()  # as if it did not exist: nobody learns another community's codes
    timezone = await session.scalar(
        select(Community.timezone).where(Community.id == code.community_id)
    )
    return code, timezone or "UTC"


async def _code_lines(
    session: AsyncSession, code_id: int, states: Sequence[OrderState]
) -> list[tuple[Order, Line]]:
    rows = (
        await session.execute(
            orders_with_items(Order, GroupBuy.number, DropItem.name, DropItem.unit)
            .where(Order.pickup_code_id == code_id, Order.state.in_(states))
            .order_by(GroupBuy.number)
        )
    ).all()
    return [
        (o, Line(number or 0, name, unit, o.delivered, o.state)) for o, number, name, unit in rows
    ]


async def hand_over(
    session: AsyncSession,
    actor: Actor,
    communities: Sequence[CommunityRef] | None,
    code_text: str,
    now: datetime,
    admin_ids: Iterable[int] = (),
) -> HandoverResult:
    """/pickup <code>. `communities`: where this leader may hand over (None: anywhere, admins).
    Wrong codes are counted; too many pause the leader and tell `admin_ids` (guessing.py)."""
    async with guessing.guarded(session, actor, _one(communities), admin_ids, now):
        return await _hand_over(session, actor, communities, code_text, now)


async def undo_handover(
    session: AsyncSession,
    actor: Actor,
    communities: Sequence[CommunityRef] | None,
    code_text: str,
    now: datetime,
    admin_ids: Iterable[int] = (),
) -> UndoResult:
    """/undo <code>: revert the code's latest handover, within an hour of it (guarded as
    `hand_over`)."""
    async with guessing.guarded(session, actor, _one(communities), admin_ids, now):
        return await _undo_handover(session, actor, communities, code_text, now)


def _one(communities: Sequence[CommunityRef] | None) -> int | None:
    """The community a typed code was meant for, to name in an alert."""
    return communities[0].id if communities else None


@unit_of_work
async def _hand_over(
    session: AsyncSession,
    actor: Actor,
    communities: Sequence[CommunityRef] | None,
    code_text: str,
    now: datetime,
) -> HandoverResult:
    code, timezone = await _find_code(session, code_text, communities)
    if code.state is CodeState.USED:
        assert code.used_at is not None
        raise CodeUsed(code.used_at, timezone)
    ready = await _code_lines(session, code.id, [OrderState.READY])
    waiting = [line for _, line in await _code_lines(session, code.id, [OrderState.CONFIRMED])]
    if not ready:
        if waiting:
            raise GoodsNotArrived([line.name for line in waiting])
        raise NothingToHandOver()
    handover = Handover(pickup_code_id=code.id, handed_by=actor.user_id, at=now)
    session.add(handover)
    await session.flush()
    await session.execute(
        update(Order)
        .where(Order.id.in_([o.id for o, _ in ready]))
        .values(
            state=OrderState.PICKED_UP, picked_up_at=now, handover_id=handover.id, updated_at=now
        )
        .execution_options(synchronize_session=False)
    )
    if not waiting:
        code.state, code.used_at = CodeState.USED, now
    await ledger.credit_pickup(session, code.community_id, [o.id for o, _ in ready], now)
    resident = await session.get(User, code.user_id)
    community = await session.get(Community, code.community_id)
    assert resident is not None
    assert community is not None
    return HandoverResult(
        community=community.name,
        resident=_name(resident),
        items=[line for _, line in ready],
        waiting=waiting,
        code_used=not waiting,
    )


@unit_of_work
async def _undo_handover(
    session: AsyncSession,
    actor: Actor,
    communities: Sequence[CommunityRef] | None,
    code_text: str,
    now: datetime,
) -> UndoResult:
    code, timezone = await _find_code(session, code_text, communities)
    handover = await session.scalar(
        select(Handover)
        .where(Handover.pickup_code_id == code.id, Handover.undone_at.is_(None))
        .order_by(Handover.at.desc(), Handover.id.desc())
        .limit(1)
    )
    if handover is None:
        raise NothingToUndo()
    if now - handover.at > UNDO_WINDOW:
        raise UndoTooLate(handover.at, timezone)
    handed = (
        await session.execute(
            orders_with_items(Order, GroupBuy.number, DropItem.name, DropItem.unit)
            .where(Order.handover_id == handover.id, Order.state == OrderState.PICKED_UP)
            .order_by(GroupBuy.number)
        )
    ).all()
    await session.execute(
        update(Order)
        .where(Order.handover_id == handover.id, Order.state == OrderState.PICKED_UP)
        .values(state=OrderState.READY, picked_up_at=None, handover_id=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    await ledger.reverse(session, [o.id for o, _, _, _ in handed], "undo", now)
    handover.undone_at = now
    code.state, code.used_at = CodeState.ACTIVE, None
    resident = await session.get(User, code.user_id)
    assert resident is not None
    return UndoResult(
        resident=_name(resident),
        items=[Line(number or 0, name, unit, o.delivered) for o, number, name, unit in handed],
    )


@read_only
async def unpicked(session: AsyncSession, actor: Actor, community: CommunityRef) -> list[Unpicked]:
    """Residents whose goods are at the pickup point and not picked up, oldest first."""
    community.require_leader(actor)
    rows = (
        await session.execute(
            orders_with_items(Order, GroupBuy, DropItem, User)
            .join(User, User.id == Order.user_id)
            .where(GroupBuy.community_id == community.id, Order.state == OrderState.READY)
            .order_by(GroupBuy.arrived_at, User.id, GroupBuy.number)
        )
    ).all()
    people: dict[int, Unpicked] = {}
    for order, gb, item, user in rows:
        line = Line(gb.number or 0, item.name, item.unit, order.delivered)
        if user.id not in people:
            people[user.id] = Unpicked(_name(user), user.id, [], gb.arrived_at or order.updated_at)
        people[user.id].items.append(line)
    return list(people.values())


@unit_of_work
async def remind(
    session: AsyncSession, actor: Actor, community: CommunityRef, now: datetime
) -> tuple[int, int]:
    """/remind: a private reminder to each resident with goods waiting. At most one an hour each
    (counted from the code's last reminder, this or the daily one), however often the leader
    asks. Returns (reminded now, reminded within the last hour)."""
    community.require_leader(actor)
    waiting = (
        await session.execute(
            select(PickupCode.id, PickupCode.reminded_at)
            .join(Order, Order.pickup_code_id == PickupCode.id)
            .join(GroupBuy, GroupBuy.id == Order.group_buy_id)
            .where(GroupBuy.community_id == community.id, Order.state == OrderState.READY)
            .distinct()
        )
    ).all()
    due = [code_id for code_id, at in waiting if at is None or at <= now - REMIND_GAP]
    notices = await ready_notices(session, community, due, ReminderNotice, now.isoformat())
    await mark_reminded(session, due, now)
    queued = await outbox.enqueue(session, notices, now)
    return queued, len(waiting) - len(due)


async def mark_reminded(session: AsyncSession, code_ids: Sequence[int], now: datetime) -> None:
    if code_ids:
        await session.execute(
            update(PickupCode)
            .where(PickupCode.id.in_(code_ids))
            .values(reminded_at=now)
            .execution_options(synchronize_session=False)
        )


@read_only
async def summary(
    session: AsyncSession, actor: Actor, community: CommunityRef, day: date | None
) -> Summary:
    """The picking list of a pickup date (default: that of the latest closed items)."""
    community.require_leader(actor)
    closed_states = [GroupBuyState.FORMED, GroupBuyState.ARRIVED]
    if day is None:
        day = await session.scalar(
            select(GroupBuy.pickup_date)
            .where(GroupBuy.community_id == community.id, GroupBuy.state.in_(closed_states))
            .order_by(GroupBuy.closed_at.desc(), GroupBuy.id.desc())
            .limit(1)
        )
    if day is None:
        raise NothingClosed()
    rows = (
        await session.execute(
            orders_with_items(Order, GroupBuy, DropItem, User)
            .join(User, User.id == Order.user_id)
            .where(
                GroupBuy.community_id == community.id,
                GroupBuy.pickup_date == day,
                GroupBuy.state.in_(closed_states),
                Order.state.in_([*_DELIVERED, OrderState.SHORT]),
            )
            .order_by(GroupBuy.number, User.first_name, User.id)
        )
    ).all()
    if not rows:
        raise NothingClosed()
    items: dict[int, SummaryItem] = {}
    residents: dict[int, tuple[str, list[Line]]] = {}
    for order, gb, item, user in rows:
        known = items.get(gb.id)
        items[gb.id] = SummaryItem(
            number=gb.number or 0,
            name=item.name,
            unit=item.unit,
            quantity=(known.quantity if known else 0) + order.delivered,
            buyers=(known.buyers if known else 0) + (1 if order.delivered else 0),
            arrived=gb.state is GroupBuyState.ARRIVED,
            short=(known.short if known else 0) + order.short_quantity,
        )
        if order.delivered:
            line = Line(gb.number or 0, item.name, item.unit, order.delivered, order.state)
            residents.setdefault(user.id, (_name(user), []))[1].append(line)
    ordered = sorted(residents.values(), key=lambda entry: entry[0].casefold())
    return Summary(community.name, day, list(items.values()), ordered)


@read_only
async def active_codes(session: AsyncSession, user_id: int) -> list[CodeView]:
    """/codes: the resident's codes that still have goods to collect."""
    rows = (
        await session.execute(
            select(PickupCode, Community, Order, GroupBuy, DropItem)
            .join(Community, Community.id == PickupCode.community_id)
            .join(Order, Order.pickup_code_id == PickupCode.id)
            .join(GroupBuy, GroupBuy.id == Order.group_buy_id)
            .join(DropItem, DropItem.id == GroupBuy.drop_item_id)
            .where(
                PickupCode.user_id == user_id,
                PickupCode.state == CodeState.ACTIVE,
                Order.state.in_([OrderState.CONFIRMED, OrderState.READY]),
            )
            .order_by(PickupCode.pickup_date, Community.name, GroupBuy.number)
        )
    ).all()
    views: dict[int, CodeView] = {}
    for code, community, order, gb, item in rows:
        if code.id not in views:
            views[code.id] = CodeView(
                code.code, community.name, point_of(community), code.pickup_date, []
            )
        views[code.id].items.append(
            Line(gb.number or 0, item.name, item.unit, order.delivered, order.state)
        )
    return list(views.values())
