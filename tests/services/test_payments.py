"""Paying in advance, at the service level: the checkout's rules, and a generated month of
prepaid activity whose money balances to the cent."""

from __future__ import annotations

import contextlib
import itertools
import random
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.after_sale import requests
from bot.services.books import exports
from bot.services.books.ledger import month_bounds
from bot.services.community.people import Actor
from bot.services.kernel.errors import (
    AlreadyPaid,
    AwaitingPayment,
    ItemClosed,
    NothingToHandOver,
    PaymentRefused,
    PaymentsOff,
    ShortTooMany,
)
from bot.services.ordering import closing, drops, joins, shortages
from bot.services.ordering.drop_format import parse_drop
from bot.services.payments import checkout, refunds, reservations
from bot.services.pickup import handover
from models import GroupBuy, Order, OrderState, Payment, Refund, RefundReason
from tests.services.test_books import _some_returns, codes_of
from tests.world import ADMIN, SHANGHAI, make_community, make_resident, publish

ALICE, BOB = 100, 101
CNY = "CNY"
_charges = itertools.count(1)


async def pay(
    session: AsyncSession, user_id: int, order_id: int, amount: int, at: datetime
) -> checkout.Paid:
    """Telegram's pre-checkout passed (or not: a payment already under way) and the receipt came."""
    return await checkout.record(
        session,
        user_id,
        checkout.payload_of(order_id, amount),
        CNY,
        amount,
        f"charge-{next(_charges)}",
        f"provider-{next(_charges)}",
        at,
    )


async def test_the_pre_checkout_says_yes_only_to_the_reservation_as_invoiced(
    session: AsyncSession, now: datetime
) -> None:
    community = await make_community(session, now)
    for user in (ALICE, BOB):
        await make_resident(session, user, now)
    await publish(session, "/drop deadline=+1h\nEggs | 12.50 | stock=3", now, pay_within=15)
    held = await joins.join(session, community.id, ALICE, now, number=1, quantity=2)
    assert held.reserved is not None and held.seq == 0 and held.members == 0
    assert held.reserved.until == now + timedelta(minutes=15)
    order_id, amount = held.reserved.order_id, held.reserved.amount
    assert amount == 2500
    payload = checkout.payload_of(order_id, amount)
    assert len(payload.encode()) <= 128

    async def refused(user: int, text: str, currency: str, total: int, at: datetime) -> str:
        with pytest.raises(PaymentRefused) as caught:
            await checkout.check(session, user, text, currency, total, CNY, at)
        return caught.value.reason

    await checkout.check(session, ALICE, payload, CNY, amount, CNY, now)  # the one yes
    assert await refused(BOB, payload, CNY, amount, now) == "not_yours"
    assert await refused(ALICE, payload, "USD", amount, now) == "currency"
    assert await refused(ALICE, payload, CNY, amount - 1, now) == "amount"
    assert await refused(ALICE, checkout.payload_of(order_id, 100), CNY, 100, now) == "amount"
    assert await refused(ALICE, "tb:o424242:a2500", CNY, 2500, now) == "unknown"
    assert await refused(ALICE, "x" * 128, CNY, 2500, now) == "unknown"
    later = now + timedelta(minutes=16)
    assert await refused(ALICE, payload, CNY, amount, later) == "lapsed"

    # The reservation holds the stock and the limit: Bob finds one left, Alice cannot add.
    with pytest.raises(AwaitingPayment):
        await joins.join(session, community.id, ALICE, now, number=1)
    paid = await pay(session, ALICE, order_id, amount, now)
    assert (paid.outcome, paid.seq, paid.members) == ("joined", 1, 1)
    with pytest.raises(AlreadyPaid):
        await joins.join(session, community.id, ALICE, now, number=1)
    assert await refused(ALICE, payload, CNY, amount, now) == "paid"
    # A second payment of the order (a second charge, not a repeat of the first) is owed back.
    twice = await pay(session, ALICE, order_id, amount, now)
    assert (twice.outcome, twice.reason) == ("refund", RefundReason.TWICE)
    assert (await refunds.owed(session, ADMIN)).total == {CNY: 2500}


async def test_a_lapsed_reservation_paid_late_is_honoured_while_stock_lasts(
    session: AsyncSession, now: datetime
) -> None:
    community = await make_community(session, now)
    for user in (ALICE, BOB):
        await make_resident(session, user, now)
    await publish(session, "/drop deadline=+2h\nEggs | 10 | stock=2", now, pay_within=15)
    alice = await joins.join(session, community.id, ALICE, now, number=1, quantity=2)
    assert alice.reserved is not None
    later = now + timedelta(minutes=20)
    assert await reservations.lapse_due(session, later) == 1
    # Alice's payment was under way when it lapsed, and the stock is still there: honoured.
    paid = await pay(session, ALICE, alice.reserved.order_id, 2000, later)
    assert paid.outcome == "joined"
    # Bob's lapses, Alice's… no: Bob reserves nothing (sold out), then one unit comes back.
    with pytest.raises(Exception, match="SoldOut"):
        await joins.join(session, community.id, BOB, later, number=1)
    await joins.cancel(session, community.id, ALICE, 1, later)  # refund owed for all of it
    bob = await joins.join(session, community.id, BOB, later, number=1, quantity=2)
    assert bob.reserved is not None
    await reservations.lapse_due(session, later + timedelta(minutes=20))
    await joins.join(session, community.id, ALICE, later + timedelta(minutes=21), number=1)
    late = await pay(session, BOB, bob.reserved.order_id, 2000, later + timedelta(minutes=22))
    assert (late.outcome, late.reason) == ("refund", RefundReason.LATE)
    owed = await refunds.owed(session, ADMIN)
    assert [(r.amount, r.reason) for r in owed.refunds] == [
        (2000, RefundReason.CANCELLED),
        (2000, RefundReason.LATE),
    ]
    with pytest.raises(PaymentsOff):
        await drops.create_drop(
            session, ADMIN, parse_drop("/drop pay=now\nX | 1"), "", SHANGHAI, now
        )


async def test_a_generated_prepaid_month_balances_to_the_cent(
    session: AsyncSession, now: datetime
) -> None:
    """Two communities, 16 residents, a prepaid drop every day of the month: reservations paid,
    paid late or never, cancellations before and after forming, shortages, handovers, returns and
    refunds marked done at random. Money in = what was delivered + refunded + still owed back,
    to the cent, in total and order by order; and the export and statements agree."""
    rng = random.Random(20261201)
    start, end = month_bounds(now.astimezone(SHANGHAI).date(), SHANGHAI)
    leaders = [Actor(60 + n, is_admin=False) for n in range(2)]
    places = [
        await make_community(
            session, now, chat_id=-3000 - n, name=f"P{n}", leader_id=leaders[n].user_id
        )
        for n in range(2)
    ]
    residents = list(range(700, 716))
    after_close: list[tuple[int, int, int]] = []
    for user in residents:
        await make_resident(session, user, start)
    for day in range(28):
        morning = start + timedelta(days=day, hours=1)
        items = "\n".join(
            f"Item {day}-{n} | {rng.randint(1, 9999) / 100:.2f} | stock={rng.randint(3, 12)}"
            for n in range(3)
        )
        await publish(session, f"/drop deadline=+2h min=2\n{items}", morning, pay_within=15)
        for place in places:
            for item in await joins.open_items(session, place.id, morning):
                for user in rng.sample(residents, rng.randint(0, 5)):
                    at = morning + timedelta(minutes=rng.randint(0, 100))
                    with contextlib.suppress(Exception):  # sold out, already held: refused
                        held = await joins.join(
                            session,
                            place.id,
                            user,
                            at,
                            group_buy_id=item.group_buy_id,
                            quantity=rng.randint(1, 3),
                        )
                        assert held.reserved is not None
                        chance = rng.random()
                        if chance < 0.75:  # paid in time
                            await pay(
                                session, user, held.reserved.order_id, held.reserved.amount, at
                            )
                        elif chance < 0.85:  # paid after it lapsed
                            await reservations.lapse_due(session, at + timedelta(minutes=16))
                            await pay(
                                session,
                                user,
                                held.reserved.order_id,
                                held.reserved.amount,
                                at + timedelta(minutes=17),
                            )
                        elif chance < 0.9:  # paid, but only after the deadline
                            after_close.append((user, held.reserved.order_id, held.reserved.amount))
                        if rng.random() < 0.1:
                            with contextlib.suppress(Exception):
                                await joins.cancel(session, place.id, user, item.number, at)
        await closing.close_due(session, morning + timedelta(hours=2))
        for user, order_id, amount in after_close:
            await pay(session, user, order_id, amount, morning + timedelta(hours=2, minutes=1))
        after_close.clear()
        for place, leader in zip(places, leaders, strict=True):
            arrival = morning + timedelta(hours=20)
            formed = (
                await session.scalars(
                    select(GroupBuy.number).where(
                        GroupBuy.community_id == place.id, GroupBuy.state == "formed"
                    )
                )
            ).all()
            await session.commit()
            if not formed:
                continue
            for number in formed:
                if rng.random() < 0.2:
                    with contextlib.suppress(ShortTooMany):
                        await shortages.report_short(session, leader, place, number, 1, arrival)
                if rng.random() < 0.1:  # someone asks to leave after it formed
                    buyer = await session.scalar(
                        select(Order.user_id)
                        .join(GroupBuy, GroupBuy.id == Order.group_buy_id)
                        .where(
                            GroupBuy.community_id == place.id,
                            GroupBuy.number == number,
                            GroupBuy.state == "formed",
                            Order.state == OrderState.CONFIRMED,
                        )
                        .limit(1)
                    )
                    await session.commit()
                    if buyer is not None:
                        with contextlib.suppress(ItemClosed):
                            asked = await requests.leave(
                                session, place, buyer, number, frozenset({1}), arrival
                            )
                            if isinstance(asked, requests.Requested):
                                await requests.decide(
                                    session, ADMIN, asked.request_id, rng.random() < 0.7, arrival
                                )
            await handover.confirm_arrival(session, leader, place, [], arrival)
            for code in (await codes_of(session, place.id)).values():
                if rng.random() < 0.9:
                    with contextlib.suppress(NothingToHandOver):
                        await handover.hand_over(
                            session, leader, [place], code, arrival + timedelta(minutes=5)
                        )
            for returned in await _some_returns(session, rng, arrival + timedelta(hours=4)):
                await requests.decide(
                    session, ADMIN, returned, rng.random() < 0.7, arrival + timedelta(hours=5)
                )
        if day < 24 and rng.random() < 0.3:  # the last days' refunds stay owed
            await refunds.mark_refunded(session, ADMIN, morning + timedelta(hours=23))

    orders = (await session.scalars(select(Order))).all()
    payments = (await session.scalars(select(Payment))).all()
    given_back = (await session.scalars(select(Refund))).all()
    await session.commit()
    paid_by_order: dict[int, int] = {}
    for payment in payments:
        paid_by_order[payment.order_id] = paid_by_order.get(payment.order_id, 0) + payment.amount
    back_by_order: dict[int, int] = {}
    for refund in given_back:
        back_by_order[refund.order_id] = back_by_order.get(refund.order_id, 0) + refund.amount
    reasons = {refund.reason for refund in given_back}
    assert set(RefundReason) - {RefundReason.TWICE, RefundReason.UNKNOWN} <= reasons, reasons
    assert any(r.done_at for r in given_back) and any(not r.done_at for r in given_back)
    # Order by order: what was paid is what it delivered (a member's order that arrived and was
    # not returned) plus what went or is going back.
    for order in orders:
        paid = paid_by_order.get(order.id, 0)
        assert paid == order.owed * (paid > 0) + back_by_order.get(order.id, 0), order.__dict__
        if order.state is OrderState.RESERVED:
            raise AssertionError("a reservation outlived its item")
    money_in = sum(p.amount for p in payments)
    delivered = sum(order.owed for order in orders if order.id in paid_by_order)
    made = sum(r.amount for r in given_back if r.done_at)
    owed = sum(r.amount for r in given_back if not r.done_at)
    assert money_in == delivered + made + owed
    assert money_in > 0 and delivered > 0 and made > 0 and owed > 0
    # The export and the statements add up to the same money.
    rows = await exports.orders_between(session, ADMIN, start, end)
    assert sum(row.paid for row in rows) == money_in
    assert sum(row.refunds_made for row in rows) == made
    assert sum(row.refunds_owed for row in rows) == owed
    paid_in = 0
    for place, leader in zip(places, leaders, strict=True):
        sheet = await exports.statement(session, leader, place, start, end)
        paid_in += sheet.prepaid
    assert paid_in == money_in
    count = await session.scalar(select(func.count()).select_from(Payment))
    await session.commit()
    assert count == len(payments)


async def test_a_stars_payment_that_cannot_be_honoured_is_owed_back_whole(
    session: AsyncSession, now: datetime
) -> None:
    community = await make_community(session, now)
    await make_resident(session, ALICE, now)
    await publish(session, "/drop deadline=+1h\nVoucher | 12.50", now, pay_within=15)
    held = await joins.join(session, community.id, ALICE, now, number=1)
    assert held.reserved is not None
    stars = 13  # 12.50 is charged as 13 stars
    payload = checkout.payload_of(held.reserved.order_id, stars)
    for charge, outcome in (("star-1", "joined"), ("star-2", "refund")):
        paid = await checkout.record(session, ALICE, payload, "XTR", stars, charge, "", now)
        assert paid.outcome == outcome
    owed = await refunds.owed(session, ADMIN)
    assert [(r.amount, r.currency, r.reason) for r in owed.refunds] == [
        (13, "XTR", RefundReason.TWICE)
    ]
    assert [r.telegram_charge_id for r in await refunds.star_refunds_due(session)] == ["star-2"]
