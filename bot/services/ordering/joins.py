"""Joining and leaving open group-buys; the community's open items; a resident's orders.

Concurrency is the database's job. A join is four statements in one transaction:

1. `UPDATE group_buys … WHERE state='open' AND deadline > now` — proves the item is open and
   locks its row, so closing (which locks the same row) sees every join or none of it;
2. `UPDATE drop_items SET stock_left = stock_left - :q WHERE stock_left >= :q` — the stock,
   shared by every community (services/ordering/stock.py);
3. `INSERT … ON CONFLICT DO UPDATE … WHERE quantity + :q <= limit` — the per-resident limit;
4. for a new member, their sequence number and the member count.

A statement that matches no row is a refusal; raising it rolls back the others.
"""

from __future__ import annotations

import dataclasses
import functools
import time
import weakref
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypedDict, Unpack, cast

from sqlalchemy import Table, and_, bindparam, case, func, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.community.communities import CommunityRef, point_of
from bot.services.kernel import effects
from bot.services.kernel.errors import (
    BadQuantity,
    ItemClosed,
    ItemNotFound,
    NotJoined,
    OverLimit,
    SoldOut,
)
from bot.services.kernel.sql import upsert
from bot.services.kernel.uow import AlreadyHandled, read_only, unit_of_work
from bot.services.kernel.views import ItemView, group_buys_with_items, orders_with_items
from bot.services.ordering import stock as stock_of_items
from bot.services.payments import refunds, reservations
from bot.services.payments.reservations import Reserved
from bot.services.pickup.point import PickupPoint
from models import (
    Community,
    DropItem,
    GroupBuy,
    GroupBuyState,
    Order,
    OrderState,
    PickupCode,
    RefundReason,
)

MAX_QUANTITY = 999  # per join; a typo like "/join 1 1000000" is refused, not ordered
RECENT = timedelta(days=7)


@dataclass(frozen=True)
class JoinResult:
    group_buy_id: int
    number: int
    name: str
    unit: str | None
    added: int
    quantity: int  # the resident's total now
    seq: int  # "No. 7"
    new_member: bool
    members: int
    min_members: int
    deadline: datetime
    stock_left: int | None
    post_id: int  # the drop post that shows it (to redraw)
    # A prepaid item: held until paid (no number, not a member yet), its invoice on its way.
    reserved: Reserved | None = None


@dataclass(frozen=True)
class CancelResult:
    number: int
    name: str
    quantity: int
    members: int
    min_members: int
    deadline: datetime
    post_id: int
    refund: int = 0  # owed back: the order was paid in advance
    reserved: bool = False  # only a reservation (unpaid) was let go


@dataclass(frozen=True)
class OrderView:
    community: str
    point: PickupPoint
    number: int
    name: str
    unit: str | None
    quantity: int
    amount: int
    state: OrderState
    deadline: datetime
    pickup_date: date
    members: int
    min_members: int
    code: str | None  # the active pickup code covering it, if any
    timezone: str
    short: int = 0  # units that did not arrive (/short): not owed, not handed over


# -- The statements of a join (the stock's is in stock.py): built once with bind parameters, so
# SQLAlchemy compiles each once per process. Public so the benchmark can time them without the bot.

_groups = cast(Table, GroupBuy.__table__)
_orders = cast(Table, Order.__table__)


@functools.cache
def lock_open(by_id: bool) -> Any:
    """Proves the item is open and locks its row; returns what the join needs to know.

    Parameters (all named p_…): community_id, now, and group_buy_id (`by_id`) or number.
    """
    chosen = (
        _groups.c.id == bindparam("p_group_buy_id")
        if by_id
        else _groups.c.number == bindparam("p_number")
    )
    return (
        update(_groups)
        .where(
            _groups.c.community_id == bindparam("p_community_id"),
            _groups.c.state == GroupBuyState.OPEN,
            _groups.c.deadline > bindparam("p_now"),
            chosen,
        )
        .values(last_seq=_groups.c.last_seq)  # a no-op write: it takes the row lock
        .returning(
            _groups.c.id,
            _groups.c.drop_item_id,
            _groups.c.number,
            _groups.c.unit_price,
            _groups.c.purchase_limit,
            _groups.c.members,
            _groups.c.min_members,
            _groups.c.deadline,
            _groups.c.last_seq,
            _groups.c.drop_post_id,
            _groups.c.pay_within,
        )
    )


@functools.cache
def add_to_order(dialect: str, limited: bool) -> Any:
    """Insert the order, or add to it; with `limited`, matches no row when the total would pass
    `limit`. Returns (quantity, seq): `seq` is the given one for a new member, else their old one.

    Parameters (p_…): group_buy_id, user_id, quantity, price, seq, now, and limit (`limited`).
    """
    insert = upsert(dialect, _orders)
    was_member = _orders.c.state == OrderState.JOINED
    total = case(
        (was_member, _orders.c.quantity + insert.excluded.quantity),
        else_=insert.excluded.quantity,
    )
    return (
        insert.values(
            group_buy_id=bindparam("p_group_buy_id"),
            user_id=bindparam("p_user_id"),
            quantity=bindparam("p_quantity"),
            unit_price=bindparam("p_price"),
            seq=bindparam("p_seq"),
            state=OrderState.JOINED,
            joined_at=bindparam("p_now"),
            updated_at=bindparam("p_now"),
        )
        .on_conflict_do_update(
            index_elements=[_orders.c.group_buy_id, _orders.c.user_id],
            set_={
                "quantity": total,
                "seq": case((was_member, _orders.c.seq), else_=insert.excluded.seq),
                "joined_at": case(
                    (was_member, _orders.c.joined_at), else_=insert.excluded.joined_at
                ),
                "unit_price": case(
                    (was_member, _orders.c.unit_price), else_=insert.excluded.unit_price
                ),
                "state": OrderState.JOINED,
                "updated_at": insert.excluded.updated_at,
            },
            where=(total <= bindparam("p_limit")) if limited else None,
        )
        .returning(_orders.c.quantity, _orders.c.seq)
    )


@functools.cache
def count_member() -> Any:
    """Group-buy p_group_buy_id has a new member, number p_seq."""
    return (
        update(_groups)
        .where(_groups.c.id == bindparam("p_group_buy_id"))
        .values(last_seq=bindparam("p_seq"), members=_groups.c.members + 1)
        .returning(_groups.c.members)
    )


@dataclass(frozen=True)
class _Locked:
    """An open group-buy, locked for this transaction."""

    id: int
    item_id: int
    number: int
    price: int
    limit: int | None
    members: int
    min_members: int
    deadline: datetime
    last_seq: int
    post_id: int
    pay_within: int | None


async def _lock(
    session: AsyncSession,
    community_id: int,
    now: datetime,
    number: int | None,
    group_buy_id: int | None = None,
) -> _Locked:
    params: dict[str, Any] = {"p_community_id": community_id, "p_now": now}
    if group_buy_id:
        params["p_group_buy_id"] = group_buy_id
    else:
        params["p_number"] = number
    row = (await session.execute(lock_open(bool(group_buy_id)), params)).first()
    if row is None:
        raise await _not_open(session, community_id, number, group_buy_id)
    assert row.number is not None  # an open item always has its number and deadline
    assert row.deadline is not None
    return _Locked(
        row.id,
        row.drop_item_id,
        row.number,
        row.unit_price,
        row.purchase_limit,
        row.members,
        row.min_members,
        row.deadline,
        row.last_seq,
        row.drop_post_id,
        row.pay_within,
    )


async def _not_open(
    session: AsyncSession, community_id: int, number: int | None, group_buy_id: int | None
) -> ItemNotFound | ItemClosed:
    """Why the item could not be locked: it does not exist, or it is closed."""
    query = (
        group_buys_with_items(GroupBuy.number, GroupBuy.state, DropItem.name)
        .where(GroupBuy.community_id == community_id, GroupBuy.number.is_not(None))
        .order_by(GroupBuy.id.desc())
        .limit(1)
    )
    query = query.where(GroupBuy.id == group_buy_id if group_buy_id else GroupBuy.number == number)
    found = (await session.execute(query)).first()
    if found is None:
        return ItemNotFound(number or 0)
    return ItemClosed(number=found.number, name=found.name, state=found.state.value)


class SoldOutMemory:
    """Items just found sold out, remembered for `SOLD_OUT_MEMORY` seconds.

    In a rush most presses come after the stock is gone; each would wait its turn to write,
    only to be refused. Remembered, they are refused at once. Stock that comes back (a member
    leaves) is joinable again once the memory lapses, or at once in this process."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._items: dict[tuple[int, int | None, int | None], tuple[float, SoldOut]] = {}

    def check(self, community_id: int, choice: JoinChoice) -> None:
        found = self._items.get(_memo_key(community_id, choice))
        if found is not None:
            until, refusal = found
            if time.monotonic() < until:
                # A new exception for each press: raising the same one again would add every
                # press's frames to its traceback, all kept alive while the memory lasts.
                raise dataclasses.replace(refusal)
            del self._items[_memo_key(community_id, choice)]

    def remember(self, community_id: int, choice: JoinChoice, refusal: SoldOut) -> None:
        known = self._items.get(_memo_key(community_id, choice))
        if known is not None and time.monotonic() < known[0]:
            return  # remembered already: a refusal from memory does not make it last longer
        if refusal.left == 0:
            self._items[_memo_key(community_id, choice)] = (
                time.monotonic() + self.seconds,
                refusal,
            )

    def forget(self, community_id: int) -> None:
        for key in [key for key in self._items if key[0] == community_id]:
            del self._items[key]


def _memo_key(community_id: int, choice: JoinChoice) -> tuple[int, int | None, int | None]:
    return community_id, choice.get("group_buy_id"), choice.get("number")


SOLD_OUT_MEMORY = 2.0
_memories: weakref.WeakKeyDictionary[Engine, SoldOutMemory] = weakref.WeakKeyDictionary()


def sold_out(session: AsyncSession) -> SoldOutMemory:
    """The memory of the database this session uses (one per engine, as the SQLite turn)."""
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    memory = _memories.get(engine)
    if memory is None:
        memory = _memories[engine] = SoldOutMemory(SOLD_OUT_MEMORY)
    return memory


@unit_of_work
async def join(
    session: AsyncSession,
    community_id: int,
    user_id: int,
    now: datetime,
    *,
    number: int | None = None,
    group_buy_id: int | None = None,
    quantity: int = 1,
) -> JoinResult:
    """Join item `number` (or the group-buy behind a Join button) with `quantity` more units."""
    if not 1 <= quantity <= MAX_QUANTITY:
        raise BadQuantity(MAX_QUANTITY)
    # Looked at again with the write turn in hand: a press that waited for it while the stock
    # ran out is refused before any statement.
    sold_out(session).check(community_id, {"number": number, "group_buy_id": group_buy_id})
    item = await _lock(session, community_id, now, number, group_buy_id)
    if item.limit is not None and quantity > item.limit:
        raise await _over_limit(session, item, user_id)
    if item.pay_within is not None:
        return await _reserve(session, item, user_id, quantity, now)
    # Stock before the order: in a rush most refusals are "sold out", found one statement
    # sooner. (A refusal rolls the whole transaction back, so the order does not matter else.)
    stock = await stock_of_items.take(session, item.item_id, quantity)
    if stock is None:
        name, left = (
            await session.execute(
                select(DropItem.name, DropItem.stock_left).where(DropItem.id == item.item_id)
            )
        ).one()
        raise SoldOut(item.number, name, int(left or 0))
    dialect = session.get_bind().dialect.name
    stored = (
        await session.execute(
            add_to_order(dialect, item.limit is not None),
            {
                "p_group_buy_id": item.id,
                "p_user_id": user_id,
                "p_quantity": quantity,
                "p_price": item.price,
                "p_seq": item.last_seq + 1,
                "p_now": now,
                "p_limit": item.limit,
            },
        )
    ).first()
    if stored is None:
        raise await _over_limit(session, item, user_id)
    total_quantity, seq = stored

    effects.redraw(session, [item.post_id])
    new_member = seq == item.last_seq + 1
    members = item.members
    if new_member:
        members = (
            await session.execute(count_member(), {"p_group_buy_id": item.id, "p_seq": seq})
        ).scalar_one()
    return JoinResult(
        group_buy_id=item.id,
        number=item.number,
        name=stock.name,
        unit=stock.unit,
        added=quantity,
        quantity=total_quantity,
        seq=seq,
        new_member=new_member,
        members=members,
        min_members=item.min_members,
        deadline=item.deadline,
        stock_left=stock.stock_left,
        post_id=item.post_id,
    )


async def _reserve(
    session: AsyncSession, item: _Locked, user_id: int, quantity: int, now: datetime
) -> JoinResult:
    """A prepaid item: the quantity is held until paid (see services/payments/reservations.py)."""
    assert item.pay_within is not None
    held = await reservations.reserve(
        session,
        group_buy_id=item.id,
        item_id=item.item_id,
        number=item.number,
        price=item.price,
        deadline=item.deadline,
        pay_within=item.pay_within,
        post_id=item.post_id,
        user_id=user_id,
        quantity=quantity,
        now=now,
    )
    return JoinResult(
        group_buy_id=item.id,
        number=item.number,
        name=held.name,
        unit=held.unit,
        added=quantity,
        quantity=quantity,
        seq=0,
        new_member=False,
        members=item.members,
        min_members=item.min_members,
        deadline=item.deadline,
        stock_left=held.stock_left,
        post_id=item.post_id,
        reserved=held,
    )


class JoinChoice(TypedDict, total=False):
    """What `join` is asked to join: item `number` or a Join button's group-buy, and how many."""

    number: int | None
    group_buy_id: int | None
    quantity: int


async def join_again_or_first(
    session: AsyncSession,
    community_id: int,
    user_id: int,
    now: datetime,
    **choice: Unpack[JoinChoice],
) -> JoinResult | None:
    """`join`; or, when this very update joined before (an instance died after the join and
    before its answer), where the resident stands, so that the answer is given after all.
    A replayed result has `added == 0`. An item found sold out a moment ago is refused without
    waiting to write (`SoldOutMemory`)."""
    sold_out(session).check(community_id, choice)
    try:
        return await join(session, community_id, user_id, now, **choice)
    except SoldOut as refusal:
        sold_out(session).remember(community_id, choice, refusal)
        raise
    except AlreadyHandled:
        return await standing(
            session,
            community_id,
            user_id,
            number=choice.get("number"),
            group_buy_id=choice.get("group_buy_id"),
        )


_IN = (OrderState.JOINED, OrderState.CONFIRMED, OrderState.READY, OrderState.PICKED_UP)


@read_only
async def standing(
    session: AsyncSession,
    community_id: int,
    user_id: int,
    *,
    number: int | None = None,
    group_buy_id: int | None = None,
) -> JoinResult | None:
    """Where the resident stands in an item they are in, shaped as the join that put them there.

    For answering a join again whose effect happened but whose answer may never have gone (its
    instance died between the two); None when they are no longer in it."""
    chosen = GroupBuy.id == group_buy_id if group_buy_id else GroupBuy.number == number
    row = (
        await session.execute(
            orders_with_items(
                GroupBuy.id,
                GroupBuy.number,
                DropItem.name,
                DropItem.unit,
                Order.id.label("order_id"),
                Order.quantity,
                Order.unit_price,
                Order.seq,
                Order.state,
                Order.reserved_until,
                GroupBuy.members,
                GroupBuy.min_members,
                GroupBuy.deadline,
                DropItem.stock_left,
                GroupBuy.drop_post_id,
            )
            .where(
                GroupBuy.community_id == community_id,
                chosen,
                Order.user_id == user_id,
                Order.state.in_((*_IN, OrderState.RESERVED)),
            )
            .order_by(GroupBuy.id.desc())
            .limit(1)
        )
    ).first()
    if row is None or row.number is None or row.deadline is None:
        return None
    held = None
    if row.state is OrderState.RESERVED:  # a prepaid join whose invoice is on its way
        assert row.reserved_until is not None
        held = Reserved(
            row.order_id,
            row.name,
            row.unit,
            row.quantity,
            row.quantity * row.unit_price,
            row.reserved_until,
            row.stock_left,
        )
    elif row.seq is None:
        return None
    return JoinResult(
        group_buy_id=row.id,
        number=row.number,
        name=row.name,
        unit=row.unit,
        added=0,
        quantity=row.quantity,
        seq=row.seq or 0,
        new_member=held is None,
        members=row.members,
        min_members=row.min_members,
        deadline=row.deadline,
        stock_left=row.stock_left,
        post_id=row.drop_post_id,
        reserved=held,
    )


async def _over_limit(session: AsyncSession, item: _Locked, user_id: int) -> OverLimit:
    assert item.limit is not None
    name = await session.scalar(select(DropItem.name).where(DropItem.id == item.item_id))
    held = await session.scalar(
        select(Order.quantity).where(
            Order.group_buy_id == item.id,
            Order.user_id == user_id,
            Order.state == OrderState.JOINED,
        )
    )
    return OverLimit(item.number, name or "", item.limit, int(held or 0))


@unit_of_work
async def cancel(
    session: AsyncSession, community_id: int, user_id: int, number: int, now: datetime
) -> CancelResult:
    """Leave an open item: the order is cancelled and its units go back to the stock; what was
    paid in advance for it is owed back. An unpaid reservation is simply let go."""
    item = await _lock(session, community_id, now, number)
    name = await session.scalar(select(DropItem.name).where(DropItem.id == item.item_id))
    assert name is not None
    order = await session.scalar(
        select(Order)
        .where(
            Order.group_buy_id == item.id,
            Order.user_id == user_id,
            Order.state.in_((OrderState.JOINED, OrderState.RESERVED)),
        )
        .with_for_update()
    )
    if order is None:
        raise NotJoined(item.number, name)
    was_member = order.state is OrderState.JOINED
    order.state, order.updated_at, order.reserved_until = OrderState.CANCELLED, now, None
    await stock_of_items.give_back(session, item.item_id, order.quantity)
    members = item.members
    if was_member:
        members = (
            await session.execute(
                update(GroupBuy)
                .where(GroupBuy.id == item.id)
                .values(members=GroupBuy.members - 1)
                .returning(GroupBuy.members)
                .execution_options(synchronize_session=False)
            )
        ).scalar_one()
    refund = await refunds.owe(session, order, RefundReason.CANCELLED, now, None)
    effects.redraw(session, [item.post_id])
    sold_out(session).forget(community_id)  # its units are joinable again
    return CancelResult(
        item.number,
        name,
        order.quantity,
        members,
        item.min_members,
        item.deadline,
        item.post_id,
        refund=refund,
        reserved=not was_member,
    )


@read_only
async def open_items(session: AsyncSession, community_id: int, now: datetime) -> list[ItemView]:
    rows = (
        await session.execute(
            group_buys_with_items(GroupBuy, DropItem)
            .where(
                GroupBuy.community_id == community_id,
                GroupBuy.state == GroupBuyState.OPEN,
                GroupBuy.deadline > now,
            )
            .order_by(GroupBuy.number)
        )
    ).all()
    return [ItemView.of(gb, item) for gb, item in rows]


_CURRENT = (OrderState.RESERVED, OrderState.JOINED, OrderState.CONFIRMED, OrderState.READY)


@read_only
async def my_communities(session: AsyncSession, user_id: int) -> list[CommunityRef]:
    """The communities of the resident's current orders, most recently joined first."""
    rows = (
        await session.execute(
            select(Community, func.max(Order.joined_at))
            .join(GroupBuy, GroupBuy.community_id == Community.id)
            .join(Order, Order.group_buy_id == GroupBuy.id)
            .where(Order.user_id == user_id, Order.state.in_(_CURRENT))
            .group_by(Community.id)
            .order_by(func.max(Order.joined_at).desc())
        )
    ).all()
    return [CommunityRef.of(community) for community, _ in rows]


@read_only
async def my_orders(session: AsyncSession, user_id: int, now: datetime) -> list[OrderView]:
    """The resident's current orders, and those that ended in the last week."""
    rows = (
        await session.execute(
            orders_with_items(
                Order, GroupBuy, DropItem, Community, PickupCode.code, PickupCode.state
            )
            .join(Community, Community.id == GroupBuy.community_id)
            .outerjoin(PickupCode, PickupCode.id == Order.pickup_code_id)
            .where(
                Order.user_id == user_id,
                or_(Order.state.in_(_CURRENT), Order.updated_at >= now - RECENT),
            )
            .order_by(GroupBuy.pickup_date.desc(), Community.name, GroupBuy.number)
        )
    ).all()
    views = []
    for order, gb, item, community, code, code_state in rows:
        active_code = code if code_state is not None and code_state.value == "active" else None
        views.append(
            OrderView(
                community=community.name,
                point=point_of(community),
                number=gb.number or 0,
                name=item.name,
                unit=item.unit,
                quantity=order.quantity,
                amount=order.delivered * order.unit_price,
                state=order.state,
                deadline=gb.deadline or now,
                pickup_date=gb.pickup_date or now.date(),
                members=gb.members,
                min_members=gb.min_members,
                code=active_code if order.state in _CURRENT else None,
                timezone=community.timezone,
                short=order.short_quantity,
            )
        )
    return views


@read_only
async def count_members(session: AsyncSession, group_buy_id: int) -> int:
    """Authoritative member count (the `members` column is a cache kept in the same statements)."""
    count = await session.scalar(
        select(func.count())
        .select_from(Order)
        .where(and_(Order.group_buy_id == group_buy_id, Order.state == OrderState.JOINED))
    )
    return int(count or 0)
