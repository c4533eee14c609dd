"""Telegram's checkout: the invoice's payload, the pre-checkout answer, the payment's record.

The payload names the order and the amount invoiced (`tb:o<order>:a<amount>`, far under
Telegram's 128 bytes): a pre-checkout is answered ok only while that reservation holds, for that
resident, at that amount and currency. Telegram wants the answer within 10 seconds, so the check
is one read.

A successful payment is recorded once, by Telegram's charge id (a repeat of the update, or
Telegram's retry after a crash, finds it recorded). Money is never turned away: a payment whose
reservation lapsed meanwhile is honoured while the item is open and has the stock, else it is
owed back, as is a second payment of one order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.kernel import effects
from bot.services.kernel.errors import PaymentRefused
from bot.services.kernel.uow import read_only, unit_of_work
from bot.services.ordering import stock
from bot.services.payments import refunds, reservations
from bot.services.payments.amounts import charge_amount
from models import (
    Community,
    DropItem,
    GroupBuy,
    GroupBuyState,
    Order,
    OrderState,
    Payment,
    RefundReason,
)

_PAYLOAD = re.compile(r"tb:o(\d{1,12}):a(\d{1,12})")


def payload_of(order_id: int, amount: int) -> str:
    return f"tb:o{order_id}:a{amount}"


def _parse(payload: str) -> tuple[int, int]:
    found = _PAYLOAD.fullmatch(payload)
    if found is None:
        raise PaymentRefused("unknown")
    return int(found.group(1)), int(found.group(2))


@read_only
async def check(
    session: AsyncSession,
    user_id: int,
    payload: str,
    currency: str,
    total: int,
    expected_currency: str,
    now: datetime,
) -> None:
    """Raises `PaymentRefused` unless this pre-checkout may go ahead."""
    order_id, invoiced = _parse(payload)
    row = (
        await session.execute(
            select(Order, GroupBuy.state, GroupBuy.deadline)
            .join(GroupBuy, GroupBuy.id == Order.group_buy_id)
            .where(Order.id == order_id)
        )
    ).first()
    if row is None:
        raise PaymentRefused("unknown")
    order, state, deadline = row
    if order.user_id != user_id:
        raise PaymentRefused("not_yours")
    if currency != expected_currency:
        raise PaymentRefused("currency")
    if order.state is OrderState.JOINED and order.paid_at is not None:
        raise PaymentRefused("paid")
    if state is not GroupBuyState.OPEN or deadline is None or deadline <= now:
        raise PaymentRefused("closed")
    if not reservations.holds(order, now):
        raise PaymentRefused("lapsed")
    if total != invoiced or total != charge_amount(order.quantity * order.unit_price, currency):
        raise PaymentRefused("amount")


@dataclass(frozen=True)
class Paid:
    """What became of a payment. `outcome`: joined (a member now), refund (owed back: see
    `reason`), or repeat (recorded before; the rest says where the order stands)."""

    outcome: str
    community: str
    number: int
    name: str
    quantity: int
    amount: int
    currency: str
    seq: int | None = None
    members: int = 0
    min_members: int = 0
    reason: RefundReason | None = None


@unit_of_work
async def record(
    session: AsyncSession,
    user_id: int,
    payload: str,
    currency: str,
    total: int,
    telegram_charge_id: str,
    provider_charge_id: str | None,
    now: datetime,
) -> Paid:
    payment = Payment(
        user_id=user_id,
        amount=total,
        currency=currency,
        telegram_charge_id=telegram_charge_id,
        provider_charge_id=provider_charge_id or None,  # empty for Stars
        paid_at=now,
    )
    found = _PAYLOAD.fullmatch(payload)
    order = (
        await session.scalar(
            select(Order)
            .where(Order.id == int(found.group(1)), Order.user_id == user_id)
            .with_for_update()
        )
        if found
        else None
    )
    if order is None:
        return await _unknown(session, payment, now)
    gb, name, community = (
        await session.execute(
            select(GroupBuy, DropItem.name, Community.name)
            .join(DropItem, DropItem.id == GroupBuy.drop_item_id)
            .join(Community, Community.id == GroupBuy.community_id)
            .where(GroupBuy.id == order.group_buy_id)
            .with_for_update(of=GroupBuy)
        )
    ).one()

    def paid(outcome: str, reason: RefundReason | None = None) -> Paid:
        return Paid(
            outcome,
            community,
            gb.number or 0,
            name,
            order.quantity,
            total,
            currency,
            order.seq,
            gb.members,
            gb.min_members,
            reason,
        )

    payment.order_id = order.id
    if not await _keep(session, payment):
        return paid("repeat")
    is_open = gb.state is GroupBuyState.OPEN and gb.deadline is not None and gb.deadline > now
    fits = total == charge_amount(order.quantity * order.unit_price, currency)
    if order.state is OrderState.JOINED and order.paid_at is not None:
        reason = RefundReason.TWICE
    elif not is_open or not fits:
        reason = RefundReason.LATE
    elif order.state is OrderState.RESERVED or await _take_again(session, gb, order):
        gb.last_seq += 1
        gb.members += 1
        order.state, order.seq, order.paid_at = OrderState.JOINED, gb.last_seq, now
        order.reserved_until, order.updated_at = None, now
        await session.flush()
        effects.redraw(session, [gb.drop_post_id])
        return paid("joined")
    else:
        reason = RefundReason.LATE
    await refunds.owe_payment(session, payment, reason, now)
    return paid("refund", reason)


async def _keep(session: AsyncSession, payment: Payment) -> bool:
    """Store a payment Telegram reported; False when its charge was stored before (a repeat)."""
    known = await session.scalar(
        select(Payment.id).where(Payment.telegram_charge_id == payment.telegram_charge_id)
    )
    if known is not None:
        return False
    session.add(payment)
    await session.flush()
    return True


async def _unknown(session: AsyncSession, payment: Payment, now: datetime) -> Paid:
    """Money for no order this bot knows (Telegram checked nothing of the payload): kept, once,
    and owed back in full, so an admin sees it in /refunds."""
    if await _keep(session, payment):  # else a repeat: owed already
        await refunds.owe_payment(session, payment, RefundReason.UNKNOWN, now)
    return Paid(
        "refund", "", 0, "", 0, payment.amount, payment.currency, reason=RefundReason.UNKNOWN
    )


async def _take_again(session: AsyncSession, gb: GroupBuy, order: Order) -> bool:
    """A lapsed (or cancelled) reservation paid after all: its stock, if it is still there."""
    if order.state not in (OrderState.LAPSED, OrderState.CANCELLED):
        return False
    return await stock.take(session, gb.drop_item_id, order.quantity) is not None


@dataclass(frozen=True)
class InvoiceFacts:
    payload: str
    community: str
    number: int
    name: str
    unit: str | None
    quantity: int
    unit_price: int
    amount: int
    pickup_date: date


@read_only
async def invoice_facts(
    session: AsyncSession, order_id: int, currency: str, now: datetime
) -> InvoiceFacts | None:
    """What the invoice of a reservation says; None once it no longer holds (paid, lapsed, let
    go): no invoice is sent for that."""
    row = (
        await session.execute(
            select(Order, GroupBuy.number, GroupBuy.pickup_date, DropItem, Community.name)
            .join(GroupBuy, GroupBuy.id == Order.group_buy_id)
            .join(DropItem, DropItem.id == GroupBuy.drop_item_id)
            .join(Community, Community.id == GroupBuy.community_id)
            .where(Order.id == order_id)
        )
    ).first()
    if row is None:
        return None
    order, number, pickup_date, item, community = row
    if not reservations.holds(order, now):
        return None
    amount = charge_amount(order.quantity * order.unit_price, currency)
    return InvoiceFacts(
        payload_of(order.id, amount),
        community,
        number or 0,
        item.name,
        item.unit,
        order.quantity,
        order.unit_price,
        amount,
        pickup_date or now.date(),
    )
