"""Joining and leaving group-buys: quantities, sequence numbers, limits and stock."""

from __future__ import annotations

import time
import traceback
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.services.kernel.errors import (
    BadQuantity,
    ItemClosed,
    ItemNotFound,
    NotJoined,
    OverLimit,
    SoldOut,
)
from bot.services.ordering import joins
from models import DropItem, Order, OrderState
from tests.world import group_buy, make_community, make_resident, publish


@pytest.fixture
async def sunny(session: AsyncSession, now: datetime) -> int:
    community = await make_community(session, now)
    for user_id in range(100, 110):
        await make_resident(session, user_id, now)
    return community.id


async def stock_left(session: AsyncSession) -> list[int | None]:
    rows = (await session.scalars(select(DropItem.stock_left).order_by(DropItem.id))).all()
    await session.commit()
    return list(rows)


async def test_join_shows_sequence_and_progress(
    session: AsyncSession, now: datetime, sunny: int
) -> None:
    await publish(session, "/drop deadline=+2h min=3\nEggs | 12 | box", now)
    first = await joins.join(session, sunny, 100, now, number=1)
    second = await joins.join(session, sunny, 101, now, number=1, quantity=2)
    assert (first.seq, first.members, first.min_members, first.new_member) == (1, 1, 3, True)
    assert (second.seq, second.members, second.quantity) == (2, 2, 2)
    assert (second.name, second.unit, second.deadline) == ("Eggs", "box", now + timedelta(hours=2))


async def test_joining_again_adds_to_the_quantity_and_keeps_the_number(
    session: AsyncSession, now: datetime, sunny: int
) -> None:
    await publish(session, "/drop\nEggs | 12", now)
    await joins.join(session, sunny, 100, now, number=1)
    again = await joins.join(session, sunny, 100, now, number=1, quantity=3)
    assert (again.quantity, again.added, again.seq, again.members, again.new_member) == (
        4,
        3,
        1,
        1,
        False,
    )


async def test_limit_counts_everything_the_resident_holds(
    session: AsyncSession, now: datetime, sunny: int
) -> None:
    await publish(session, "/drop limit=3\nEggs | 12", now)
    await joins.join(session, sunny, 100, now, number=1, quantity=2)
    with pytest.raises(OverLimit) as caught:
        await joins.join(session, sunny, 100, now, number=1, quantity=2)
    assert (caught.value.limit, caught.value.have) == (3, 2)
    with pytest.raises(OverLimit):
        await joins.join(session, sunny, 101, now, number=1, quantity=4)
    order = await session.scalar(select(Order).where(Order.user_id == 100))
    assert order is not None
    assert order.quantity == 2


async def test_stock_is_shared_by_communities_and_never_oversold(
    session: AsyncSession, now: datetime, sunny: int
) -> None:
    river = await make_community(session, now, chat_id=-1002, name="River")
    await publish(session, "/drop\nEggs | 12 | stock=5", now)
    await joins.join(session, sunny, 100, now, number=1, quantity=3)
    with pytest.raises(SoldOut) as caught:
        await joins.join(session, river.id, 101, now, number=1, quantity=3)
    assert caught.value.left == 2
    result = await joins.join(session, river.id, 101, now, number=1, quantity=2)
    assert result.stock_left == 0
    assert await stock_left(session) == [0]
    # The refused join left no order behind.
    orders = (await session.scalars(select(Order.quantity).order_by(Order.id))).all()
    assert list(orders) == [3, 2]


async def test_cancel_returns_stock_and_rejoining_gets_a_new_number(
    session: AsyncSession, now: datetime, sunny: int
) -> None:
    await publish(session, "/drop min=2\nEggs | 12 | stock=10", now)
    await joins.join(session, sunny, 100, now, number=1, quantity=4)
    await joins.join(session, sunny, 101, now, number=1)
    cancelled = await joins.cancel(session, sunny, 100, 1, now)
    assert (cancelled.quantity, cancelled.members) == (4, 1)
    assert await stock_left(session) == [9]
    with pytest.raises(NotJoined):
        await joins.cancel(session, sunny, 100, 1, now)
    back = await joins.join(session, sunny, 100, now, number=1)
    assert (back.seq, back.quantity, back.members) == (3, 1, 2)


async def test_refusals_for_missing_closed_and_bad_quantities(
    session: AsyncSession, now: datetime, sunny: int
) -> None:
    await publish(session, "/drop deadline=+1h\nEggs | 12", now)
    with pytest.raises(ItemNotFound):
        await joins.join(session, sunny, 100, now, number=9)
    for quantity in (0, -1, 1000):
        with pytest.raises(BadQuantity):
            await joins.join(session, sunny, 100, now, number=1, quantity=quantity)
    later = now + timedelta(hours=1)
    with pytest.raises(ItemClosed) as caught:  # deadline passed, not yet closed: still refused
        await joins.join(session, sunny, 100, later, number=1)
    assert caught.value.name == "Eggs"


async def test_button_join_must_come_from_the_items_own_group(
    session: AsyncSession, now: datetime, sunny: int
) -> None:
    river = await make_community(session, now, chat_id=-1002, name="River")
    await publish(session, "/drop\nEggs | 12", now)
    sunny_eggs = await group_buy(session, sunny, 1)
    with pytest.raises(ItemNotFound):
        await joins.join(session, river.id, 100, now, group_buy_id=sunny_eggs.id)
    joined = await joins.join(session, sunny, 100, now, group_buy_id=sunny_eggs.id)
    assert joined.number == 1


async def test_today_and_my_orders(session: AsyncSession, now: datetime, sunny: int) -> None:
    await publish(session, "/drop min=2\nEggs | 12 | box\nMilk | 8 | limit=2 | stock=30", now)
    await joins.join(session, sunny, 100, now, number=2, quantity=2)
    items = await joins.open_items(session, sunny, now)
    assert [(i.number, i.name, i.members, i.min_members) for i in items] == [
        (1, "Eggs", 0, 2),
        (2, "Milk", 1, 2),
    ]
    assert (items[1].purchase_limit, items[1].stock_left, items[1].price) == (2, 28, 800)
    mine = await joins.my_orders(session, 100, now)
    assert [(o.name, o.quantity, o.amount, o.state) for o in mine] == [
        ("Milk", 2, 1600, OrderState.JOINED)
    ]


async def test_member_counter_matches_the_orders(
    session: AsyncSession, now: datetime, sunny: int
) -> None:
    await publish(session, "/drop\nEggs | 12", now)
    for user_id in range(100, 106):
        await joins.join(session, sunny, user_id, now, number=1)
    await joins.cancel(session, sunny, 102, 1, now)
    await joins.join(session, sunny, 103, now, number=1)
    gb = await group_buy(session, sunny, 1)
    assert gb.members == await joins.count_members(session, gb.id) == 5


async def test_a_sold_out_item_is_refused_from_memory_until_stock_comes_back(
    session: AsyncSession, engine: AsyncEngine, now: datetime, sunny: int
) -> None:
    await publish(session, "/drop\nEggs | 12 | stock=1", now)
    await joins.join_again_or_first(session, sunny, 100, now, number=1)
    statements = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    with pytest.raises(SoldOut):
        await joins.join_again_or_first(session, sunny, 101, now, number=1)
    asked = len(statements)
    assert asked  # the first refusal came from the database
    with pytest.raises(SoldOut) as again:
        await joins.join_again_or_first(session, sunny, 102, now, number=1)
    assert len(statements) == asked  # the next from memory: not one statement
    assert again.value.left == 0
    # Stock comes back (a member leaves): joinable at once.
    await joins.cancel(session, sunny, 100, 1, now)
    assert (await joins.join_again_or_first(session, sunny, 102, now, number=1)) is not None


async def test_refusals_from_memory_do_not_pile_up_each_others_frames(
    session: AsyncSession, now: datetime, sunny: int
) -> None:
    await publish(session, "/drop\nEggs | 12 | stock=1", now)
    await joins.join_again_or_first(session, sunny, 100, now, number=1)
    refusals = []
    for user_id in range(101, 131):
        with pytest.raises(SoldOut) as refused:
            await joins.join_again_or_first(session, sunny, user_id, now, number=1)
        refusals.append(refused.value)
    # Each press has its own refusal; one raised again and again would chain every press's
    # frames (and what they hold) onto one traceback for as long as the memory lasts.
    assert len({id(r) for r in refusals}) == len(refusals)
    depths = [len(traceback.extract_tb(r.__traceback__)) for r in refusals[1:]]
    assert max(depths) == min(depths)
    assert all(r.left == 0 and r.name == "Eggs" for r in refusals)


async def test_the_memory_of_a_sold_out_item_lapses(
    session: AsyncSession, now: datetime, sunny: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    await publish(session, "/drop\nEggs | 12 | stock=1", now)
    await joins.join_again_or_first(session, sunny, 100, now, number=1)
    with pytest.raises(SoldOut):
        await joins.join_again_or_first(session, sunny, 101, now, number=1)
    # Stock put back behind the bot's back (another instance's cancel), then time passes.
    await session.execute(update(DropItem).values(stock_left=1))
    await session.commit()
    with pytest.raises(SoldOut):
        await joins.join_again_or_first(session, sunny, 101, now, number=1)  # remembered
    later = time.monotonic() + joins.SOLD_OUT_MEMORY + 0.1
    monkeypatch.setattr(joins.time, "monotonic", lambda: later)
    assert (await joins.join_again_or_first(session, sunny, 101, now, number=1)) is not None
