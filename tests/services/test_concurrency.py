"""Stock, limits and closing under many simultaneous transactions, each in its own session."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.db import create_session_factory
from bot.services.kernel.errors import DomainError, ItemClosed, OverLimit, SoldOut
from bot.services.kernel.sql import upsert
from bot.services.ordering import closing, joins
from models import DropItem, GroupBuyState, Order, OrderState, User
from tests.world import group_buy, make_community, publish


async def add_residents(session: AsyncSession, ids: range, now: datetime) -> None:
    rows = [{"id": i, "first_name": f"R{i}", "created_at": now} for i in ids]
    await session.execute(upsert(session, User).values(rows).on_conflict_do_nothing())
    await session.commit()


async def run_all(engine: AsyncEngine, calls: list[object]) -> list[object]:
    factory = create_session_factory(engine)

    async def one(call: object) -> object:
        async with factory() as own:
            try:
                return await call(own)  # type: ignore[operator]
            except DomainError as refusal:
                return refusal

    return await asyncio.gather(*(one(call) for call in calls))


async def test_a_thousand_simultaneous_joins_sell_exactly_the_stock(
    engine: AsyncEngine, session: AsyncSession, now: datetime
) -> None:
    community = await make_community(session, now)
    await add_residents(session, range(1000, 2000), now)
    await publish(session, "/drop\nEggs | 12 | stock=100 | limit=1", now)

    def join_as(user_id: int) -> object:
        return lambda own: joins.join(own, community.id, user_id, now, number=1)

    results = await run_all(engine, [join_as(user_id) for user_id in range(1000, 2000)])

    outcomes = Counter(type(result).__name__ for result in results)
    assert outcomes == {"JoinResult": 100, "SoldOut": 900}
    assert all(r.left == 0 for r in results if isinstance(r, SoldOut))
    sold = await session.scalar(
        select(func.sum(Order.quantity)).where(Order.state == OrderState.JOINED)
    )
    left = await session.scalar(select(DropItem.stock_left))
    assert (sold, left) == (100, 0)
    seqs = sorted(r.seq for r in results if isinstance(r, joins.JoinResult))
    assert seqs == list(range(1, 101))  # every member numbered once, no gaps or repeats
    assert (await group_buy(session, community.id, 1)).members == 100


async def test_one_resident_racing_their_own_limit(
    engine: AsyncEngine, session: AsyncSession, now: datetime
) -> None:
    community = await make_community(session, now)
    await add_residents(session, range(1000, 1001), now)
    await publish(session, "/drop\nEggs | 12 | limit=3", now)

    results = await run_all(
        engine, [lambda own: joins.join(own, community.id, 1000, now, number=1)] * 40
    )
    assert Counter(type(r).__name__ for r in results) == {"JoinResult": 3, "OverLimit": 37}
    assert all(isinstance(r, OverLimit) for r in results if not isinstance(r, joins.JoinResult))
    quantity = await session.scalar(select(Order.quantity))
    assert quantity == 3


async def test_joins_racing_the_close_are_either_counted_or_refused(
    engine: AsyncEngine, session: AsyncSession, now: datetime
) -> None:
    community = await make_community(session, now)
    await add_residents(session, range(1000, 1300), now)
    await publish(session, "/drop deadline=+1h min=1\nEggs | 12", now)
    joining_time = now + timedelta(minutes=30)

    def join_as(user_id: int) -> object:
        return lambda own: joins.join(own, community.id, user_id, joining_time, number=1)

    gb = await group_buy(session, community.id, 1)
    calls = [join_as(user_id) for user_id in range(1000, 1300)]
    calls.insert(150, lambda own: closing.close_group_buys(own, [gb.id], joining_time))
    results = await run_all(engine, calls)

    accepted = [r for r in results if isinstance(r, joins.JoinResult)]
    refused = [r for r in results if isinstance(r, ItemClosed)]
    assert len(accepted) + len(refused) == 300
    closed = await group_buy(session, community.id, 1)
    assert closed.state is GroupBuyState.FORMED
    # Every accepted join was counted by the close and got its order confirmed: none is left
    # behind in "joined" on a closed item.
    states = Counter((await session.scalars(select(Order.state))).all())
    assert states == {OrderState.CONFIRMED: len(accepted)}
    assert closed.members == len(accepted)
