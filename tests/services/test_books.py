"""The books: commission and points on pickup, reversals, payouts, exports and statements —
and a generated month of activity whose every book balances."""

from __future__ import annotations

import contextlib
import random
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.after_sale import requests
from bot.services.books import exports, ledger
from bot.services.books.ledger import commission_on, month_bounds
from bot.services.community import referrals
from bot.services.community.communities import CommunityRef
from bot.services.community.people import Actor
from bot.services.kernel.errors import (
    AlreadyRequested,
    CommunityUnknown,
    NotAllowed,
    NothingToHandOver,
    NothingToSettle,
    ReturnWindowOver,
    SettleTooMuch,
    ShortTooMany,
)
from bot.services.ordering import closing, joins, shortages
from bot.services.pickup import handover
from models import CodeState, GroupBuy, Order, OrderState, OutboxMessage, PickupCode
from tests.world import ADMIN, SHANGHAI, make_community, make_resident, publish

LEADER = Actor(50, is_admin=False)
ALICE, BOB = 100, 101


async def codes_of(session: AsyncSession, community_id: int) -> dict[int, str]:
    rows = (
        await session.execute(
            select(PickupCode.user_id, PickupCode.code).where(
                PickupCode.community_id == community_id, PickupCode.state == CodeState.ACTIVE
            )
        )
    ).all()
    await session.commit()
    return dict(rows)  # type: ignore[arg-type]


@pytest.fixture
async def arrived(session: AsyncSession, now: datetime) -> CommunityRef:
    """Alice: Eggs ×2 (¥12.50, earns points) and Tea (¥30, nopoints); Bob: Eggs ×1. Arrived."""
    community = await make_community(session, now, leader_id=LEADER.user_id)
    await make_resident(session, ALICE, now, "Alice")
    await make_resident(session, BOB, now, "Bob")
    await publish(session, "/drop deadline=+1h min=1\nEggs | 12.50\nTea | 30 | nopoints", now)
    await joins.join(session, community.id, ALICE, now, number=1, quantity=2)
    await joins.join(session, community.id, ALICE, now, number=2)
    await joins.join(session, community.id, BOB, now, number=1)
    await closing.close_due(session, now + timedelta(hours=1))
    await handover.confirm_arrival(session, LEADER, community, [], now + timedelta(hours=2))
    return community


async def test_pickup_earns_commission_and_points_and_undo_reverses_them(
    session: AsyncSession, now: datetime, arrived: CommunityRef
) -> None:
    later = now + timedelta(hours=3)
    code = (await codes_of(session, arrived.id))[ALICE]
    await handover.hand_over(session, LEADER, [arrived], code, later)
    report = await ledger.commission(session, LEADER, arrived, later)
    # 10 % of ¥25.00 and of ¥30.00, per order, rounded down to the fen.
    assert (report.rate, report.earned, report.settled, report.unsettled) == (1000, 550, 0, 550)
    assert sorted((line.item, line.amount, line.commission) for line in report.lines) == [
        ("Eggs", 2500, 250),
        ("Tea", 3000, 300),
    ]
    points = await ledger.points(session, ALICE)
    assert points.balance == 25  # Tea earns no points
    assert [(line.item, line.points) for line in points.lines] == [("Eggs", 25)]

    await handover.undo_handover(session, LEADER, [arrived], code, later + timedelta(minutes=5))
    report = await ledger.commission(session, LEADER, arrived, later)
    assert report.earned == 0 and len(report.lines) == 4  # two entries and their reversals
    assert (await ledger.points(session, ALICE)).balance == 0
    await handover.hand_over(session, LEADER, [arrived], code, later + timedelta(minutes=6))
    assert (await ledger.commission(session, LEADER, arrived, later)).earned == 550
    assert (await ledger.points(session, ALICE)).balance == 25


async def test_commission_counts_only_what_arrived(
    session: AsyncSession, now: datetime, arrived: CommunityRef
) -> None:
    await shortages.report_short(session, LEADER, arrived, 1, 1, now)  # Bob's egg box is missing
    codes = await codes_of(session, arrived.id)
    await handover.hand_over(session, LEADER, [arrived], codes[ALICE], now)
    assert (await ledger.commission(session, LEADER, arrived, now)).earned == 550
    assert BOB in codes  # Bob's code exists, but there is nothing to hand over or earn


async def test_payouts_settle_the_unsettled_and_tell_the_leader(
    session: AsyncSession, now: datetime, arrived: CommunityRef
) -> None:
    with pytest.raises(NothingToSettle):
        await ledger.settle(session, ADMIN, arrived.id, None, now)
    codes = await codes_of(session, arrived.id)
    for resident in (ALICE, BOB):
        await handover.hand_over(session, LEADER, [arrived], codes[resident], now)
    assert (await ledger.commission(session, LEADER, arrived, now)).unsettled == 675
    with pytest.raises(SettleTooMuch) as caught:
        await ledger.settle(session, ADMIN, arrived.id, 676, now)
    assert caught.value.unsettled == 675
    with pytest.raises(NotAllowed):
        await ledger.settle(session, LEADER, arrived.id, 100, now)
    with pytest.raises(CommunityUnknown):
        await ledger.settle(session, ADMIN, 999, 100, now)

    paid = await ledger.settle(session, ADMIN, arrived.id, 500, now)
    assert (paid.amount, paid.unsettled, paid.leader_id) == (500, 175, LEADER.user_id)
    rest = await ledger.settle(session, ADMIN, arrived.id, None, now)
    assert (rest.amount, rest.unsettled) == (175, 0)
    report = await ledger.commission(session, LEADER, arrived, now)
    assert (report.earned, report.settled, report.unsettled) == (675, 675, 0)
    told = (
        await session.scalars(select(OutboxMessage.payload).where(OutboxMessage.kind == "payout"))
    ).all()
    await session.commit()
    assert [(p["amount"], p["unsettled"]) for p in told] == [(500, 175), (175, 0)]


async def test_referrals_count_new_residents_once_and_show_what_they_bought(
    session: AsyncSession, now: datetime, arrived: CommunityRef
) -> None:
    await make_resident(session, 102, now, "Carol")
    await make_resident(session, 103, now, "Dan")
    assert await referrals.record_referral(session, 102, ALICE) == "Alice"
    assert await referrals.record_referral(session, 102, BOB) is None  # never overwritten
    assert await referrals.record_referral(session, ALICE, ALICE) is None  # not oneself
    assert await referrals.record_referral(session, BOB, ALICE) is None  # Bob already bought
    assert await referrals.record_referral(session, 103, 999) is None  # unknown inviter
    await publish(session, "/drop deadline=+1h min=1\nRice | 40", now)
    rice = (await joins.open_items(session, arrived.id, now))[0]
    await joins.join(session, arrived.id, 102, now, group_buy_id=rice.group_buy_id, quantity=2)
    assert await referrals.promoters(session, LEADER, arrived) == []  # not bought until formed
    await closing.close_due(session, now + timedelta(hours=1))
    found = await referrals.promoters(session, LEADER, arrived)
    assert [(p.name, p.residents, p.orders, p.amount) for p in found] == [("Alice", 1, 1, 8000)]
    with pytest.raises(NotAllowed):
        await referrals.promoters(session, Actor(ALICE, is_admin=False), arrived)


async def _some_returns(session: AsyncSession, rng: random.Random, at: datetime) -> list[int]:
    """Return requests for about one in twenty of the orders picked up and not yet returned."""
    picked = (
        await session.execute(
            select(Order.id, Order.user_id)
            .where(Order.state == OrderState.PICKED_UP)
            .order_by(Order.id)
        )
    ).all()
    await session.commit()
    asked = []
    for order_id, user_id in picked:
        if rng.random() < 0.05:
            with contextlib.suppress(AlreadyRequested, ReturnWindowOver):
                request = await requests.request_return(
                    session, user_id, order_id, "broken", ["a", "b"], frozenset({1}), at
                )
                asked.append(request.request_id)
    return asked


async def test_a_generated_month_balances_in_every_book(
    session: AsyncSession, now: datetime
) -> None:
    """Three communities, 24 residents, a drop every day of November: joins, closing, arrival,
    shortages, handovers, undos, returns (approved or rejected) and payouts at random. For the month, the orders export, the
    statements, /commission and /points must all agree, order by order, with the rule."""
    rng = random.Random(20261124)
    start, end = month_bounds(now.astimezone(SHANGHAI).date(), SHANGHAI)
    leaders = [Actor(60 + n, is_admin=False) for n in range(3)]
    places = [
        await make_community(
            session, now, chat_id=-2000 - n, name=f"C{n}", leader_id=leaders[n].user_id
        )
        for n in range(3)
    ]
    residents = list(range(500, 524))
    for user in residents:
        await make_resident(session, user, start)
    for day in range(29):
        morning = start + timedelta(days=day, hours=1)
        items = "\n".join(
            f"Item {day}-{n} | {rng.randint(1, 9999) / 100:.2f}"
            + (" | nopoints" if rng.random() < 0.2 else "")
            for n in range(3)
        )
        await publish(session, f"/drop deadline=+2h min=2\n{items}", morning)
        for place in places:
            for item in await joins.open_items(session, place.id, morning):
                for user in rng.sample(residents, rng.randint(0, 5)):
                    await joins.join(
                        session,
                        place.id,
                        user,
                        morning,
                        group_buy_id=item.group_buy_id,
                        quantity=rng.randint(1, 3),
                    )
        await closing.close_due(session, morning + timedelta(hours=2))
        for place, leader in zip(places, leaders, strict=True):
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
            arrival = morning + timedelta(hours=20)
            for number in formed:
                if rng.random() < 0.2:
                    with contextlib.suppress(ShortTooMany):  # all of it already short
                        await shortages.report_short(session, leader, place, number, 1, arrival)
            await handover.confirm_arrival(session, leader, place, [], arrival)
            for code in (await codes_of(session, place.id)).values():
                if rng.random() < 0.85:
                    handed_at = arrival + timedelta(minutes=rng.randint(1, 120))
                    try:
                        await handover.hand_over(session, leader, [place], code, handed_at)
                    except NothingToHandOver:  # everything on it was short
                        continue
                    if rng.random() < 0.1:
                        await handover.undo_handover(
                            session, leader, [place], code, handed_at + timedelta(minutes=5)
                        )
            for returned in await _some_returns(session, rng, arrival + timedelta(hours=4)):
                await requests.decide(
                    session, ADMIN, returned, rng.random() < 0.7, arrival + timedelta(hours=5)
                )
            if rng.random() < 0.3:
                with contextlib.suppress(NothingToSettle):
                    await ledger.settle(
                        session, ADMIN, place.id, None, arrival + timedelta(hours=3)
                    )

    rows = await exports.orders_between(session, ADMIN, start, end)
    assert len(rows) > 200
    picked = [row for row in rows if row.state == OrderState.PICKED_UP.value]
    assert picked and any(row.short for row in rows)
    # Order by order, the rule: commission on what was picked up; nothing on anything else.
    for row in rows:
        if row.state == OrderState.PICKED_UP.value:
            assert row.commission == commission_on(row.amount, 1000), row
        else:
            assert row.commission == 0 and row.points == 0, row
    end_of_month = end - timedelta(seconds=1)
    paid_out = 0
    undone = 0
    assert any(row.state == OrderState.RETURNED.value for row in rows)
    for place, leader in zip(places, leaders, strict=True):
        own = [row for row in rows if row.community == place.name]
        sheet = await exports.statement(session, leader, place, start, end)
        report = await ledger.commission(session, leader, place, end_of_month)
        assert sheet.earned == sum(row.commission for row in own) == report.this_month
        assert sheet.balance_before == 0
        assert sheet.balance_after == report.unsettled
        assert sheet.paid == report.settled
        paid_out += sheet.paid
        undone += sum(1 for line in sheet.lines if line.reason in ("undo", "return"))
    assert paid_out > 0 and undone > 0  # the month really had payouts and undone handovers
    for user in residents:
        balance = (await ledger.points(session, user)).balance
        assert balance == sum(row.points for row in rows if row.resident_id == user)
    # Owed follows the order's state: nothing for what was cancelled, failed, did not arrive or
    # is still open; a return is refunded, not owed.
    for row in rows:
        delivered = (row.quantity - row.short) * row.unit_price
        owed = row.state in ("confirmed", "ready", "picked_up")
        assert row.amount == (delivered if owed else 0), row
        assert row.refunded == (delivered if row.state == "returned" else 0), row
    assert any(row.state == "failed" for row in rows) and any(row.refunded for row in rows)
    # And the raw orders agree with the export (nothing left out or counted twice).
    orders = (await session.scalars(select(Order))).all()
    await session.commit()
    assert sum(order.owed for order in orders) == sum(row.amount for row in rows)
    assert sum(order.refunded for order in orders) == sum(row.refunded for row in rows)
