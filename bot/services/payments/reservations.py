"""Reservations of prepaid items: a join holds the quantity until it is paid or lapses.

In a prepaid group-buy (`GroupBuy.pay_within` set) a join takes the stock and the resident's
limit exactly as a join at pickup does, but the order is `reserved`, not yet a member: it counts
toward the minimum, and gets a number ("No. 7"), only when paid (`checkout.record`). An invoice
is queued to the resident privately; a resident the bot cannot write to gets it when they
/start (the outbox holds it). A reservation lapses `pay_within` minutes after the join, or at the
deadline, whichever is first: its stock goes back and the resident is told.

One order per resident and item, so one invoice per order: while it is unpaid a second join is
refused (pay it, or /cancel and join again with the quantity wanted), and a paid order is not
added to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.kernel import effects, outbox
from bot.services.kernel.errors import AlreadyPaid, AwaitingPayment, SoldOut
from bot.services.kernel.uow import unit_of_work
from bot.services.notices import InvoiceNotice, LapsedNotice
from bot.services.ordering import stock
from models import Community, DropItem, GroupBuy, Order, OrderState


@dataclass(frozen=True)
class Reserved:
    order_id: int
    name: str
    unit: str | None
    quantity: int
    amount: int
    until: datetime
    stock_left: int | None


def holds(order: Order, now: datetime) -> bool:
    """Whether this order is a reservation still waiting for its payment."""
    return order.state is OrderState.RESERVED and (
        order.reserved_until is None or order.reserved_until > now
    )


async def reserve(
    session: AsyncSession,
    *,
    group_buy_id: int,
    item_id: int,
    number: int,
    price: int,
    deadline: datetime,
    pay_within: int,
    post_id: int,
    user_id: int,
    quantity: int,
    now: datetime,
) -> Reserved:
    """In the join's transaction, with the group-buy's row locked (see `joins.join`)."""
    name, unit = (
        await session.execute(select(DropItem.name, DropItem.unit).where(DropItem.id == item_id))
    ).one()
    order = await session.scalar(
        select(Order).where(Order.group_buy_id == group_buy_id, Order.user_id == user_id)
    )
    if order is not None and order.state is OrderState.RESERVED:
        raise AwaitingPayment(number, name, order.quantity)
    if order is not None and order.state is OrderState.JOINED:
        raise AlreadyPaid(number, name, order.quantity)
    left = await stock.take(session, item_id, quantity)
    if left is None:
        stock_left = await session.scalar(select(DropItem.stock_left).where(DropItem.id == item_id))
        raise SoldOut(number, name, int(stock_left or 0))
    until = min(now + timedelta(minutes=pay_within), deadline)
    if order is None:
        order = Order(group_buy_id=group_buy_id, user_id=user_id, short_quantity=0)
        session.add(order)
    order.quantity, order.unit_price, order.seq = quantity, price, None
    order.state, order.reserved_until, order.paid_at = OrderState.RESERVED, until, None
    order.joined_at = order.updated_at = now
    await session.flush()
    await outbox.enqueue(
        session,
        [
            outbox.Notice(
                InvoiceNotice(order_id=order.id),
                chat_id=user_id,
                user_id=user_id,
                dedupe_key=f"invoice:{order.id}:{until.isoformat()}",
            )
        ],
        now,
    )
    effects.redraw(session, [post_id])  # the stock it shows
    effects.wake_at(session, [until])
    return Reserved(order.id, name, unit, quantity, quantity * price, until, left.stock_left)


async def release(
    session: AsyncSession, now: datetime, group_buy_ids: list[int] | None = None
) -> int:
    """Lapse the unpaid reservations whose time is up (or all of these group-buys', as they
    close): their stock goes back and each resident is told. In the caller's transaction."""
    query = (
        select(Order, GroupBuy, DropItem.name, Community)
        .join(GroupBuy, GroupBuy.id == Order.group_buy_id)
        .join(DropItem, DropItem.id == GroupBuy.drop_item_id)
        .join(Community, Community.id == GroupBuy.community_id)
        .where(Order.state == OrderState.RESERVED)
        .order_by(GroupBuy.drop_item_id, Order.id)  # one lock order for the stock rows
        .with_for_update(of=Order)
    )
    if group_buy_ids is None:
        query = query.where(Order.reserved_until <= now)
    else:
        query = query.where(Order.group_buy_id.in_(group_buy_ids))
    rows = (await session.execute(query)).all()
    notices = []
    for order, gb, name, community in rows:
        order.state, order.updated_at = OrderState.LAPSED, now
        await stock.give_back(session, gb.drop_item_id, order.quantity)
        notices.append(
            outbox.Notice(
                LapsedNotice(
                    community=community.name,
                    number=gb.number or 0,
                    name=name,
                    quantity=order.quantity,
                ),
                chat_id=order.user_id,
                user_id=order.user_id,
                community_id=community.id,
                dedupe_key=f"lapsed:{order.id}:{order.joined_at.isoformat()}",
            )
        )
        effects.redraw(session, [gb.drop_post_id])
    await session.flush()
    await outbox.enqueue(session, notices, now)
    return len(rows)


@unit_of_work
async def lapse_due(session: AsyncSession, now: datetime) -> int:
    """The timekeeper's: every reservation whose time is up."""
    return await release(session, now)
