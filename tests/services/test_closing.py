"""Closing at the deadline: forming, failing, pickup codes, notices. Exactly once."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.community.people import Actor
from bot.services.kernel.errors import ItemClosed, ItemNotFound, NotAllowed
from bot.services.ordering import closing, joins
from bot.services.pickup import codes
from models import (
    CodeState,
    DropItem,
    GroupBuyState,
    Order,
    OrderState,
    OutboxMessage,
    PickupCode,
)
from tests.world import ADMIN, group_buy, make_community, make_resident, publish

LEADER = 50


@pytest.fixture
async def sunny(session: AsyncSession, now: datetime) -> int:
    community = await make_community(session, now, leader_id=LEADER)
    for user_id in range(100, 110):
        await make_resident(session, user_id, now)
    return community.id


async def outbox(session: AsyncSession, kind: str) -> list[OutboxMessage]:
    rows = (
        await session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
        )
    ).all()
    await session.commit()
    return list(rows)


async def test_items_form_or_fail_at_the_deadline(
    session: AsyncSession, now: datetime, sunny: int
) -> None:
    await publish(
        session, "/drop deadline=+1h min=2\nEggs | 12 | stock=10\nMilk | 8 | stock=10", now
    )
    await joins.join(session, sunny, 100, now, number=1, quantity=2)
    await joins.join(session, sunny, 101, now, number=1)
    await joins.join(session, sunny, 102, now, number=2, quantity=3)

    assert await closing.close_due(session, now + timedelta(minutes=59)) == []
    closed = await closing.close_due(session, now + timedelta(hours=1))
    assert [(c.number, c.formed, c.members) for c in closed] == [(1, True, 2), (2, False, 1)]
    assert (await group_buy(session, sunny, 1)).state is GroupBuyState.FORMED
    assert (await group_buy(session, sunny, 2)).state is GroupBuyState.FAILED

    states = dict(
        (await session.execute(select(Order.user_id, Order.state).order_by(Order.id))).all()
    )
    assert states == {100: OrderState.CONFIRMED, 101: OrderState.CONFIRMED, 102: OrderState.FAILED}
    # The failed item's units are back in its stock; the formed item's stay sold.
    stock = (await session.scalars(select(DropItem.stock_left).order_by(DropItem.id))).all()
    assert list(stock) == [7, 10]


async def test_each_buyer_gets_one_seven_digit_code_per_community_and_pickup_date(
    session: AsyncSession, now: datetime, sunny: int
) -> None:
    await publish(session, "/drop deadline=+1h\nEggs | 12\nMilk | 8", now)
    await publish(session, "/drop deadline=+1h pickup=2026-11-27\nBread | 5", now)
    for number in (1, 2, 3):
        await joins.join(session, sunny, 100, now, number=number)
    await joins.join(session, sunny, 101, now, number=1)
    await closing.close_due(session, now + timedelta(hours=1))

    codes = (await session.scalars(select(PickupCode).order_by(PickupCode.id))).all()
    assert sorted((c.user_id, c.pickup_date) for c in codes) == [
        (100, date(2026, 11, 25)),
        (100, date(2026, 11, 27)),
        (101, date(2026, 11, 25)),
    ]
    assert all(re.fullmatch(r"[1-9]\d{6}", c.code) for c in codes)
    assert len({c.code for c in codes}) == 3
    eggs_and_milk = (
        await session.scalars(
            select(Order.pickup_code_id).where(Order.user_id == 100).order_by(Order.id)
        )
    ).all()
    assert eggs_and_milk[0] == eggs_and_milk[1] != eggs_and_milk[2]


async def test_closing_queues_private_results_and_one_group_summary(
    session: AsyncSession, now: datetime, sunny: int
) -> None:
    await publish(session, "/drop deadline=+1h min=2\nEggs <big> | 12\nMilk | 8", now)
    await joins.join(session, sunny, 100, now, number=1)
    await joins.join(session, sunny, 101, now, number=1)
    await joins.join(session, sunny, 100, now, number=2)
    await closing.close_due(session, now + timedelta(hours=1))

    group = await outbox(session, "closed_group")
    assert len(group) == 1
    assert [(i["name"], i["formed"]) for i in group[0].payload["items"]] == [
        ("Eggs <big>", True),
        ("Milk", False),
    ]
    private = {m.user_id: m.payload for m in await outbox(session, "closed")}
    assert set(private) == {100, 101}
    code = await session.scalar(select(PickupCode.code).where(PickupCode.user_id == 100))
    assert private[100]["formed"][0]["code"] == code
    assert [i["name"] for i in private[100]["formed"][0]["items"]] == ["Eggs <big>"]
    assert [i["name"] for i in private[100]["failed"]] == ["Milk"]
    # Codes travel only in private notices, never in the group's.
    assert code not in str(group[0].payload)


async def test_closing_twice_changes_nothing(
    session: AsyncSession, now: datetime, sunny: int
) -> None:
    await publish(session, "/drop deadline=+1h\nEggs | 12", now)
    await joins.join(session, sunny, 100, now, number=1)
    later = now + timedelta(hours=1)
    assert len(await closing.close_due(session, later)) == 1
    assert await closing.close_due(session, later) == []
    assert await closing.close_due(session, later + timedelta(days=1)) == []
    assert len(await outbox(session, "closed")) == 1
    assert await session.scalar(select(func.count()).select_from(PickupCode)) == 1


async def test_close_now_is_for_the_leader_and_works_like_the_deadline(
    session: AsyncSession, now: datetime, sunny: int
) -> None:
    await publish(session, "/drop deadline=+5h min=1\nEggs | 12", now)
    await joins.join(session, sunny, 100, now, number=1)
    community = await make_community(session, now, leader_id=LEADER)  # reload the reference
    with pytest.raises(NotAllowed):
        await closing.close_now(session, Actor(100, is_admin=False), community, 1, now)
    with pytest.raises(ItemNotFound):
        await closing.close_now(session, Actor(LEADER, is_admin=False), community, 7, now)
    closed = await closing.close_now(session, Actor(LEADER, is_admin=False), community, 1, now)
    assert closed.formed
    with pytest.raises(ItemClosed):
        await closing.close_now(session, ADMIN, community, 1, now)
    with pytest.raises(ItemClosed):
        await joins.join(session, sunny, 101, now, number=1)


async def test_more_goods_for_a_day_whose_code_was_used_reopen_the_code(
    session: AsyncSession, now: datetime, sunny: int
) -> None:
    await publish(session, "/drop deadline=+1h pickup=2026-11-26\nEggs | 12", now)
    await joins.join(session, sunny, 100, now, number=1)
    await closing.close_due(session, now + timedelta(hours=1))
    code = await session.scalar(select(PickupCode))
    assert code is not None
    code.state, code.used_at = CodeState.USED, now
    await session.commit()

    await publish(session, "/drop deadline=+1h pickup=2026-11-26\nMilk | 8", now)
    await joins.join(session, sunny, 100, now, number=2)  # 1 is still the formed Eggs
    await closing.close_due(session, now + timedelta(hours=1))
    codes = (
        await session.scalars(select(PickupCode).execution_options(populate_existing=True))
    ).all()
    assert len(codes) == 1
    assert codes[0].state is CodeState.ACTIVE


async def test_code_collisions_are_retried(
    session: AsyncSession, now: datetime, sunny: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    await publish(session, "/drop deadline=+1h\nEggs | 12", now)
    await joins.join(session, sunny, 100, now, number=1)
    await joins.join(session, sunny, 101, now, number=1)
    issued = iter(["1234567", "1234567", "7654321"])
    monkeypatch.setattr(codes, "new_code", lambda: next(issued))
    await closing.close_due(session, now + timedelta(hours=1))
    issued_codes = sorted((await session.scalars(select(PickupCode.code))).all())
    assert issued_codes == ["1234567", "7654321"]
