"""Closing group-buys at their deadline (or early with /close): each forms or fails.

Closing is idempotent. It only touches rows still `open`, which it locks first, so the scheduler,
a restart catching up, a second process and a leader's /close can all race and each item still
closes exactly once. One community's due items close in one transaction, and every notice
(codes, "did not form", the group's summary) is queued in that same transaction.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.community.communities import CommunityRef, point_of
from bot.services.community.people import Actor
from bot.services.kernel import effects, outbox
from bot.services.kernel.errors import ItemClosed, ItemNotFound
from bot.services.kernel.uow import read_only, unit_of_work
from bot.services.kernel.views import group_buys_with_items
from bot.services.notices import (
    ClosedGroupLine,
    ClosedGroupNotice,
    ClosedLine,
    ClosedNotice,
    FormedCode,
)
from bot.services.ordering import stock
from bot.services.payments import refunds, reservations
from bot.services.pickup.codes import ensure_codes
from models import (
    Community,
    DropItem,
    GroupBuy,
    GroupBuyState,
    Order,
    OrderState,
    RefundReason,
)


@dataclass(frozen=True)
class ClosedItem:
    group_buy_id: int
    community_id: int
    number: int
    name: str
    formed: bool
    members: int
    min_members: int
    post_id: int


@read_only
async def due_by_community(session: AsyncSession, now: datetime) -> dict[int, list[int]]:
    rows = (
        await session.execute(
            select(GroupBuy.community_id, GroupBuy.id)
            .where(GroupBuy.state == GroupBuyState.OPEN, GroupBuy.deadline <= now)
            .order_by(GroupBuy.community_id, GroupBuy.id)
        )
    ).all()
    due: dict[int, list[int]] = defaultdict(list)
    for community_id, group_buy_id in rows:
        due[community_id].append(group_buy_id)
    return dict(due)


async def close_due(session: AsyncSession, now: datetime) -> list[ClosedItem]:
    """Close everything whose deadline has passed, one community per transaction."""
    closed: list[ClosedItem] = []
    for group_buy_ids in (await due_by_community(session, now)).values():
        closed.extend(await close_group_buys(session, group_buy_ids, now, skip_locked=True))
    return closed


@unit_of_work
async def close_now(
    session: AsyncSession, actor: Actor, community: CommunityRef, number: int, now: datetime
) -> ClosedItem:
    """/close n: close an open item now, exactly as its deadline would."""
    community.require_leader(actor)
    found = (
        await session.execute(
            group_buys_with_items(GroupBuy.id, GroupBuy.state, DropItem.name)
            .where(GroupBuy.community_id == community.id, GroupBuy.number == number)
            .order_by(GroupBuy.id.desc())
            .limit(1)
        )
    ).first()
    if found is None:
        raise ItemNotFound(number)
    closed = await close_group_buys(session, [found.id], now)
    if not closed:
        raise ItemClosed(number=number, name=found.name, state=found.state.value)
    return closed[0]


@unit_of_work
async def close_group_buys(
    session: AsyncSession, group_buy_ids: list[int], now: datetime, *, skip_locked: bool = False
) -> list[ClosedItem]:
    """Close the given group-buys of one community that are still open."""
    rows = (
        await session.execute(
            group_buys_with_items(GroupBuy, DropItem, Community)
            .join(Community, Community.id == GroupBuy.community_id)
            .where(GroupBuy.id.in_(group_buy_ids), GroupBuy.state == GroupBuyState.OPEN)
            .order_by(GroupBuy.id)
            .with_for_update(of=GroupBuy, skip_locked=skip_locked)
        )
    ).all()
    if not rows:
        return []
    community = rows[0][2]
    ids = [gb.id for gb, _, _ in rows]
    # Unpaid reservations of prepaid items lapse at the deadline: only members count.
    await reservations.release(session, now, ids)
    # Counted after the lock, in a new statement: every committed join is seen.
    members = dict(
        (
            await session.execute(
                select(Order.group_buy_id, func.count())
                .where(Order.group_buy_id.in_(ids), Order.state == OrderState.JOINED)
                .group_by(Order.group_buy_id)
            )
        ).all()
    )
    closed: list[ClosedItem] = []
    for gb, item, _ in rows:
        count = int(members.get(gb.id, 0))
        formed = count >= gb.min_members
        gb.state = GroupBuyState.FORMED if formed else GroupBuyState.FAILED
        gb.members = count
        gb.closed_at = now
        closed.append(
            ClosedItem(
                gb.id,
                community.id,
                gb.number or 0,
                item.name,
                formed,
                count,
                gb.min_members,
                gb.drop_post_id,
            )
        )
    formed_ids = [c.group_buy_id for c in closed if c.formed]
    failed_ids = [c.group_buy_id for c in closed if not c.formed]
    await session.flush()

    for target, chosen in ((OrderState.CONFIRMED, formed_ids), (OrderState.FAILED, failed_ids)):
        if chosen:
            await session.execute(
                update(Order)
                .where(Order.group_buy_id.in_(chosen), Order.state == OrderState.JOINED)
                .values(state=target, updated_at=now)
                .execution_options(synchronize_session=False)
            )
    await _return_failed_stock(session, failed_ids)
    await _refund_failed(session, failed_ids, now)
    orders = await _closed_orders(session, ids)
    codes = await _assign_codes(session, community.id, orders, now)
    await outbox.enqueue(session, _notices(community, rows, closed, orders, codes), now)
    effects.redraw(session, {c.post_id for c in closed})
    return closed


async def _return_failed_stock(session: AsyncSession, failed_ids: list[int]) -> None:
    if not failed_ids:
        return
    returned = (
        await session.execute(
            select(GroupBuy.drop_item_id, func.sum(Order.quantity))
            .join(Order, Order.group_buy_id == GroupBuy.id)
            .where(GroupBuy.id.in_(failed_ids), Order.state == OrderState.FAILED)
            .group_by(GroupBuy.drop_item_id)
            .order_by(GroupBuy.drop_item_id)  # one lock order for every closer: no deadlocks
        )
    ).all()
    for item_id, quantity in returned:
        await stock.give_back(session, item_id, quantity)


async def _refund_failed(session: AsyncSession, failed_ids: list[int], now: datetime) -> None:
    """What was paid in advance for an item that did not form is owed back, all of it."""
    if not failed_ids:
        return
    paid = (
        await session.scalars(
            select(Order).where(
                Order.group_buy_id.in_(failed_ids),
                Order.state == OrderState.FAILED,
                Order.paid_at.is_not(None),
            )
        )
    ).all()
    for order in paid:
        await refunds.owe(session, order, RefundReason.FAILED, now, None)


@dataclass(frozen=True)
class _ClosedOrder:
    order_id: int
    user_id: int
    group_buy_id: int
    quantity: int
    amount: int
    state: OrderState
    pickup_date: date


async def _closed_orders(session: AsyncSession, group_buy_ids: list[int]) -> list[_ClosedOrder]:
    rows = (
        await session.execute(
            select(Order, GroupBuy.pickup_date)
            .join(GroupBuy, GroupBuy.id == Order.group_buy_id)
            .where(
                Order.group_buy_id.in_(group_buy_ids),
                Order.state.in_([OrderState.CONFIRMED, OrderState.FAILED]),
            )
            .order_by(Order.user_id, Order.group_buy_id)
        )
    ).all()
    return [
        _ClosedOrder(
            order.id,
            order.user_id,
            order.group_buy_id,
            order.quantity,
            order.quantity * order.unit_price,
            order.state,
            pickup_date,
        )
        for order, pickup_date in rows
        if pickup_date is not None  # always set once open; the check is for the type checker
    ]


async def _assign_codes(
    session: AsyncSession, community_id: int, orders: list[_ClosedOrder], now: datetime
) -> dict[tuple[int, date], str]:
    """One code per resident, community and pickup date, shared by all their formed orders."""
    buyers = {(o.user_id, o.pickup_date) for o in orders if o.state is OrderState.CONFIRMED}
    codes = await ensure_codes(session, community_id, buyers, now)
    updates = [
        {"id": o.order_id, "pickup_code_id": codes[(o.user_id, o.pickup_date)][0]}
        for o in orders
        if o.state is OrderState.CONFIRMED
    ]
    if updates:
        await session.execute(update(Order), updates)
    return {key: code for key, (_, code) in codes.items()}


def _batch_key(ids: list[int]) -> str:
    return hashlib.sha1(",".join(map(str, sorted(ids))).encode()).hexdigest()[:16]


def _notices(
    community: Community,
    rows: Sequence[Any],
    closed: list[ClosedItem],
    orders: list[_ClosedOrder],
    codes: dict[tuple[int, date], str],
) -> list[outbox.Notice]:
    items = {gb.id: (gb, item) for gb, item, _ in rows}
    batch = _batch_key(list(items))
    notices = [
        outbox.Notice(
            ClosedGroupNotice(
                items=[
                    ClosedGroupLine(
                        number=c.number,
                        name=c.name,
                        formed=c.formed,
                        members=c.members,
                        min_members=c.min_members,
                    )
                    for c in closed
                ]
            ),
            chat_id=community.chat_id,
            community_id=community.id,
            dedupe_key=f"closed-group:{community.id}:{batch}",
        )
    ]
    by_user: dict[int, list[_ClosedOrder]] = defaultdict(list)
    for order in orders:
        by_user[order.user_id].append(order)
    for user_id, own in by_user.items():
        formed: dict[date, list[ClosedLine]] = defaultdict(list)
        failed = []
        for order in own:
            gb, item = items[order.group_buy_id]
            line = ClosedLine(
                number=gb.number or 0,
                name=item.name,
                unit=item.unit,
                quantity=order.quantity,
                amount=order.amount,
                members=gb.members,
                min_members=gb.min_members,
            )
            if order.state is OrderState.CONFIRMED:
                formed[order.pickup_date].append(line)
            else:
                failed.append(line)
        payload = ClosedNotice(
            community=community.name,
            point=point_of(community).as_payload(),
            formed=[
                FormedCode(code=codes[(user_id, day)], pickup_date=day, items=lines)
                for day, lines in sorted(formed.items())
            ],
            failed=failed,
        )
        notices.append(
            outbox.Notice(
                payload,
                chat_id=user_id,
                user_id=user_id,
                community_id=community.id,
                dedupe_key=f"closed:{user_id}:{batch}",
            )
        )
    return notices
