"""Joining and leaving open group-buys; the community's open items; a resident's orders.

Concurrency is the database's job. A join is four statements in one transaction:

1. `UPDATE group_buys … WHERE state='open' AND deadline > now` — proves the item is open and
   locks its row, so closing (which locks the same row) sees every join or none of it;
2. `INSERT … ON CONFLICT DO UPDATE … WHERE quantity + :q <= limit` — the per-resident limit;
3. `UPDATE drop_items SET stock_left = stock_left - :q WHERE stock_left >= :q` — the stock,
   shared by every community;
4. for a new member, their sequence number and the member count.

A statement that matches no row is a refusal; raising it rolls back the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.errors import BadQuantity, ItemClosed, ItemNotFound, NotJoined, OverLimit, SoldOut
from bot.services.sql import upsert
from bot.services.uow import unit_of_work
from models import (
    Community,
    DropItem,
    GroupBuy,
    GroupBuyState,
    Order,
    OrderState,
    PickupCode,
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


@dataclass(frozen=True)
class CancelResult:
    number: int
    name: str
    quantity: int
    members: int
    min_members: int
    deadline: datetime


@dataclass(frozen=True)
class OpenItem:
    group_buy_id: int
    number: int
    name: str
    unit: str | None
    price: int
    members: int
    min_members: int
    purchase_limit: int | None
    stock_left: int | None
    deadline: datetime


@dataclass(frozen=True)
class OrderView:
    community: str
    pickup_point: str | None
    number: int
    name: str
    unit: str | None
    quantity: int
    amount: int
    state: OrderState
    group_buy_state: GroupBuyState
    deadline: datetime
    pickup_date: date
    members: int
    min_members: int
    code: str | None  # the active pickup code covering it, if any
    timezone: str


_LOCK_COLUMNS = (
    GroupBuy.id,
    GroupBuy.drop_item_id,
    GroupBuy.number,
    GroupBuy.unit_price,
    GroupBuy.purchase_limit,
    GroupBuy.members,
    GroupBuy.min_members,
    GroupBuy.deadline,
    GroupBuy.last_seq,
)


async def _lock_open(
    session: AsyncSession,
    community_id: int,
    now: datetime,
    number: int | None,
    group_buy_id: int | None,
) -> tuple[int, int, int, int, int | None, int, int, datetime, int]:
    where = [
        GroupBuy.community_id == community_id,
        GroupBuy.state == GroupBuyState.OPEN,
        GroupBuy.deadline > now,
    ]
    where.append(GroupBuy.id == group_buy_id if group_buy_id else GroupBuy.number == number)
    row = (
        await session.execute(
            update(GroupBuy)
            .where(*where)
            .values(last_seq=GroupBuy.last_seq)  # a no-op write: it takes the row lock
            .returning(*_LOCK_COLUMNS)
            .execution_options(synchronize_session=False)
        )
    ).first()
    if row is None:
        await _explain_not_open(session, community_id, number, group_buy_id)
    assert row is not None
    return tuple(row)


async def _explain_not_open(
    session: AsyncSession, community_id: int, number: int | None, group_buy_id: int | None
) -> None:
    query = (
        select(GroupBuy.number, GroupBuy.state, DropItem.name)
        .join(DropItem, DropItem.id == GroupBuy.drop_item_id)
        .where(GroupBuy.community_id == community_id, GroupBuy.number.is_not(None))
        .order_by(GroupBuy.id.desc())
        .limit(1)
    )
    query = query.where(GroupBuy.id == group_buy_id if group_buy_id else GroupBuy.number == number)
    found = (await session.execute(query)).first()
    if found is None:
        raise ItemNotFound(number or 0)
    raise ItemClosed(number=found.number, name=found.name, state=found.state.value)


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
    (
        gb_id,
        item_id,
        gb_number,
        price,
        limit,
        members,
        minimum,
        deadline,
        last_seq,
    ) = await _lock_open(session, community_id, now, number, group_buy_id)
    order = Order.__table__.c
    insert = upsert(session, Order)
    was_member = order.state == OrderState.JOINED
    total = case(
        (was_member, order.quantity + insert.excluded.quantity), else_=insert.excluded.quantity
    )
    statement = (
        insert.values(
            group_buy_id=gb_id,
            user_id=user_id,
            quantity=quantity,
            unit_price=price,
            seq=last_seq + 1,
            state=OrderState.JOINED,
            joined_at=now,
            updated_at=now,
        )
        .on_conflict_do_update(
            index_elements=[order.group_buy_id, order.user_id],
            set_={
                "quantity": total,
                "seq": case((was_member, order.seq), else_=insert.excluded.seq),
                "joined_at": case((was_member, order.joined_at), else_=insert.excluded.joined_at),
                "unit_price": case(
                    (was_member, order.unit_price), else_=insert.excluded.unit_price
                ),
                "state": OrderState.JOINED,
                "updated_at": insert.excluded.updated_at,
            },
            where=(total <= limit) if limit is not None else None,
        )
        .returning(order.quantity, order.seq)
    )
    if limit is not None and quantity > limit:
        raise await _over_limit(session, gb_id, item_id, gb_number, user_id, limit)
    stored = (await session.execute(statement)).first()
    if stored is None:
        assert limit is not None
        raise await _over_limit(session, gb_id, item_id, gb_number, user_id, limit)
    total_quantity, seq = tuple(stored)

    stock = (
        await session.execute(
            update(DropItem)
            .where(
                DropItem.id == item_id,
                or_(DropItem.stock_left.is_(None), DropItem.stock_left >= quantity),
            )
            .values(stock_left=DropItem.stock_left - quantity)
            .returning(DropItem.stock_left, DropItem.name, DropItem.unit)
            .execution_options(synchronize_session=False)
        )
    ).first()
    if stock is None:
        name, left = (
            await session.execute(
                select(DropItem.name, DropItem.stock_left).where(DropItem.id == item_id)
            )
        ).one()
        raise SoldOut(gb_number, name, int(left or 0))

    new_member = seq == last_seq + 1
    if new_member:
        members = (
            await session.execute(
                update(GroupBuy)
                .where(GroupBuy.id == gb_id)
                .values(last_seq=seq, members=GroupBuy.members + 1)
                .returning(GroupBuy.members)
                .execution_options(synchronize_session=False)
            )
        ).scalar_one()
    return JoinResult(
        group_buy_id=gb_id,
        number=gb_number,
        name=stock.name,
        unit=stock.unit,
        added=quantity,
        quantity=total_quantity,
        seq=seq,
        new_member=new_member,
        members=members,
        min_members=minimum,
        deadline=deadline,
        stock_left=stock.stock_left,
    )


async def _over_limit(
    session: AsyncSession, group_buy_id: int, item_id: int, number: int, user_id: int, limit: int
) -> OverLimit:
    name = await session.scalar(select(DropItem.name).where(DropItem.id == item_id))
    held = await session.scalar(
        select(Order.quantity).where(
            Order.group_buy_id == group_buy_id,
            Order.user_id == user_id,
            Order.state == OrderState.JOINED,
        )
    )
    return OverLimit(number, name or "", limit, int(held or 0))


@unit_of_work
async def cancel(
    session: AsyncSession, community_id: int, user_id: int, number: int, now: datetime
) -> CancelResult:
    """Leave an open item: the order is cancelled and its units go back to the stock."""
    (gb_id, item_id, gb_number, _, _, members, minimum, deadline, _) = await _lock_open(
        session, community_id, now, number, None
    )
    name = await session.scalar(select(DropItem.name).where(DropItem.id == item_id))
    assert name is not None
    quantity = await session.scalar(
        update(Order)
        .where(
            Order.group_buy_id == gb_id,
            Order.user_id == user_id,
            Order.state == OrderState.JOINED,
        )
        .values(state=OrderState.CANCELLED, updated_at=now)
        .returning(Order.quantity)
        .execution_options(synchronize_session=False)
    )
    if quantity is None:
        raise NotJoined(gb_number, name)
    await session.execute(
        update(DropItem)
        .where(DropItem.id == item_id, DropItem.stock_left.is_not(None))
        .values(stock_left=DropItem.stock_left + quantity)
        .execution_options(synchronize_session=False)
    )
    members = (
        await session.execute(
            update(GroupBuy)
            .where(GroupBuy.id == gb_id)
            .values(members=GroupBuy.members - 1)
            .returning(GroupBuy.members)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one()
    return CancelResult(gb_number, name, quantity, members, minimum, deadline)


@unit_of_work
async def open_items(session: AsyncSession, community_id: int, now: datetime) -> list[OpenItem]:
    rows = (
        await session.execute(
            select(GroupBuy, DropItem)
            .join(DropItem, DropItem.id == GroupBuy.drop_item_id)
            .where(
                GroupBuy.community_id == community_id,
                GroupBuy.state == GroupBuyState.OPEN,
                GroupBuy.deadline > now,
            )
            .order_by(GroupBuy.number)
        )
    ).all()
    return [
        OpenItem(
            group_buy_id=gb.id,
            number=gb.number or 0,
            name=item.name,
            unit=item.unit,
            price=gb.unit_price,
            members=gb.members,
            min_members=gb.min_members,
            purchase_limit=gb.purchase_limit,
            stock_left=item.stock_left,
            deadline=gb.deadline or now,
        )
        for gb, item in rows
    ]


_CURRENT = (OrderState.JOINED, OrderState.CONFIRMED, OrderState.READY)


@unit_of_work
async def my_orders(session: AsyncSession, user_id: int, now: datetime) -> list[OrderView]:
    """The resident's current orders, and those that ended in the last week."""
    rows = (
        await session.execute(
            select(Order, GroupBuy, DropItem, Community, PickupCode.code, PickupCode.state)
            .join(GroupBuy, GroupBuy.id == Order.group_buy_id)
            .join(DropItem, DropItem.id == GroupBuy.drop_item_id)
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
                pickup_point=community.pickup_point,
                number=gb.number or 0,
                name=item.name,
                unit=item.unit,
                quantity=order.quantity,
                amount=order.quantity * order.unit_price,
                state=order.state,
                group_buy_state=gb.state,
                deadline=gb.deadline or now,
                pickup_date=gb.pickup_date or now.date(),
                members=gb.members,
                min_members=gb.min_members,
                code=active_code if order.state in _CURRENT else None,
                timezone=community.timezone,
            )
        )
    return views


@unit_of_work
async def count_members(session: AsyncSession, group_buy_id: int) -> int:
    """Authoritative member count (the `members` column is a cache kept in the same statements)."""
    count = await session.scalar(
        select(func.count())
        .select_from(Order)
        .where(and_(Order.group_buy_id == group_buy_id, Order.state == OrderState.JOINED))
    )
    return int(count or 0)
