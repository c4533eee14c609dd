"""Shortages: goods that did not arrive (/short n qty).

The missing units are taken from the latest joiners first (the first to join are the first
served, as at a market stall). Each affected buyer is told privately; what is missing is not owed.
An order with nothing left to hand over becomes `short`; one partly short keeps its state and
hands over the rest (`Order.delivered`). Stock is not given back: the goods never existed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.community.communities import CommunityRef
from bot.services.community.people import Actor, UserRef
from bot.services.kernel import outbox
from bot.services.kernel.errors import ItemNotFormed, ShortTooMany
from bot.services.kernel.uow import unit_of_work
from bot.services.kernel.views import group_buys_with_items
from bot.services.notices import ShortLine, ShortNotice
from bot.services.payments.refunds import owe as owe_refund
from models import DropItem, GroupBuy, GroupBuyState, Order, OrderState, RefundReason, User


@dataclass(frozen=True)
class Affected:
    resident: str
    short: int  # units taken off now
    kept: int  # units they still get


@dataclass(frozen=True)
class ShortResult:
    number: int
    name: str
    unit: str | None
    short: int
    to_hand_over: int  # units of the item still to hand over after this
    affected: list[Affected]


@unit_of_work
async def report_short(
    session: AsyncSession,
    actor: Actor,
    community: CommunityRef,
    number: int,
    quantity: int,
    now: datetime,
) -> ShortResult:
    community.require_leader(actor)
    found = (
        await session.execute(
            group_buys_with_items(GroupBuy, DropItem)
            .where(GroupBuy.community_id == community.id, GroupBuy.number == number)
            .order_by(GroupBuy.id.desc())
            .limit(1)
            .with_for_update(of=GroupBuy)
        )
    ).first()
    if found is None:
        raise ItemNotFormed(number, None)
    group_buy, item = found
    if group_buy.state not in (GroupBuyState.FORMED, GroupBuyState.ARRIVED):
        raise ItemNotFormed(number, group_buy.state.value)
    rows = (
        await session.execute(
            select(Order, User)
            .join(User, User.id == Order.user_id)
            .where(
                Order.group_buy_id == group_buy.id,
                Order.state.in_([OrderState.CONFIRMED, OrderState.READY]),
            )
            .order_by(Order.seq.desc(), Order.id.desc())
            .with_for_update(of=Order)
        )
    ).all()
    available = sum(order.delivered for order, _ in rows)
    if quantity > available:
        raise ShortTooMany(number, item.name, available)
    left = quantity
    affected: list[Affected] = []
    notices: dict[int, list[ShortLine]] = defaultdict(list)
    refunds: dict[int, int] = defaultdict(int)
    paid_back: dict[int, int] = defaultdict(int)
    for order, user in rows:
        if not left:
            break
        taken = min(order.delivered, left)
        if not taken:
            continue
        left -= taken
        order.short_quantity += taken
        order.updated_at = now
        if not order.delivered:
            order.state = OrderState.SHORT
        affected.append(Affected(UserRef.of(user).display_name, taken, order.delivered))
        notices[user.id].append(
            ShortLine(
                order_id=order.id,
                number=number,
                name=item.name,
                quantity=order.quantity,
                short=order.short_quantity,
                kept=order.delivered,
            )
        )
        refunds[user.id] += taken * order.unit_price
        # Paid in advance: what did not arrive is owed back.
        paid_back[user.id] += await owe_refund(
            session, order, RefundReason.SHORT, now, taken * order.unit_price
        )
    await outbox.enqueue(
        session,
        [
            outbox.Notice(
                ShortNotice(
                    community=community.name,
                    items=lines,
                    refund=refunds[user_id],
                    paid_back=paid_back[user_id],
                ),
                chat_id=user_id,
                user_id=user_id,
                community_id=community.id,
                dedupe_key="short:" + ",".join(f"{line.order_id}-{line.short}" for line in lines),
            )
            for user_id, lines in notices.items()
        ],
        now,
    )
    return ShortResult(number, item.name, item.unit, quantity, available - quantity, affected)
