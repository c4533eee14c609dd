"""The next day: arrival, the picking list, handing over against codes, undo, reminders."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.community.communities import CommunityRef
from bot.services.community.people import Actor
from bot.services.kernel.errors import (
    CodeMalformed,
    CodesPaused,
    CodeUnknown,
    CodeUsed,
    GoodsNotArrived,
    ItemNotFormed,
    NotAllowed,
    NothingClosed,
    NothingToArrive,
    NothingToUndo,
    UndoTooLate,
)
from bot.services.ordering import closing, joins
from bot.services.pickup import guessing, handover
from models import CodeState, OrderState, OutboxMessage, PickupCode
from models import Order as OrderRow
from tests.world import code_of, make_community, make_resident, publish, queued

LEADER = Actor(50, is_admin=False)


@pytest.fixture
async def sunny(session: AsyncSession, now: datetime) -> CommunityRef:
    community = await make_community(session, now, leader_id=LEADER.user_id)
    await make_resident(session, 100, now, "Alice")
    await make_resident(session, 101, now, "Bob")
    await publish(session, "/drop deadline=+1h min=1\nEggs | 12 | box\nMilk | 8\nTea | 30", now)
    await joins.join(session, community.id, 100, now, number=1, quantity=2)
    await joins.join(session, community.id, 100, now, number=2)
    await joins.join(session, community.id, 101, now, number=1)
    await closing.close_due(session, now + timedelta(hours=1))  # Tea fails: nobody joined
    return community


async def test_summary_totals_items_and_lists_each_resident(
    session: AsyncSession, now: datetime, sunny: CommunityRef
) -> None:
    summary = await handover.summary(session, LEADER, sunny, None)
    assert summary.pickup_date == date(2026, 11, 25)
    assert [(i.number, i.name, i.quantity, i.buyers) for i in summary.items] == [
        (1, "Eggs", 3, 2),
        (2, "Milk", 1, 1),
    ]
    assert [
        (name, [(line.name, line.quantity) for line in lines]) for name, lines in summary.residents
    ] == [
        ("Alice", [("Eggs", 2), ("Milk", 1)]),
        ("Bob", [("Eggs", 1)]),
    ]
    with pytest.raises(NotAllowed):
        await handover.summary(session, Actor(100, is_admin=False), sunny, None)
    with pytest.raises(NothingClosed):
        await handover.summary(session, LEADER, sunny, date(2026, 1, 1))


async def test_pickup_before_arrival_is_refused(
    session: AsyncSession, now: datetime, sunny: CommunityRef
) -> None:
    with pytest.raises(GoodsNotArrived) as caught:
        await handover.hand_over(session, LEADER, [sunny], await code_of(session, 100), now)
    assert caught.value.items == ["Eggs", "Milk"]


async def test_arrival_readies_orders_and_tells_each_buyer_privately(
    session: AsyncSession, now: datetime, sunny: CommunityRef
) -> None:
    arrival = await handover.confirm_arrival(session, LEADER, sunny, [], now)
    assert [(line.number, line.quantity) for line in arrival.items] == [(1, 3), (2, 1)]
    assert arrival.residents == 2
    ready = (
        await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "ready"))
    ).all()
    assert sorted(m.user_id for m in ready) == [100, 101]
    alice = next(m for m in ready if m.user_id == 100)
    assert alice.payload["code"] == await code_of(session, 100)
    assert [i["name"] for i in alice.payload["items"]] == ["Eggs", "Milk"]
    with pytest.raises(NothingToArrive):
        await handover.confirm_arrival(session, LEADER, sunny, [], now)


async def test_arrival_of_named_items_and_refusals(
    session: AsyncSession, now: datetime, sunny: CommunityRef
) -> None:
    with pytest.raises(ItemNotFormed) as caught:
        await handover.confirm_arrival(session, LEADER, sunny, [3], now)  # Tea failed
    assert caught.value.state == "failed"
    with pytest.raises(ItemNotFormed) as missing:
        await handover.confirm_arrival(session, LEADER, sunny, [9], now)
    assert missing.value.state is None
    with pytest.raises(NotAllowed):
        await handover.confirm_arrival(session, Actor(101, is_admin=False), sunny, [1], now)
    arrival = await handover.confirm_arrival(session, LEADER, sunny, [1], now)
    assert [line.name for line in arrival.items] == ["Eggs"]

    # Alice's milk has not arrived: she gets her eggs now and the code stays valid for the milk.
    handed = await handover.hand_over(session, LEADER, [sunny], await code_of(session, 100), now)
    assert [(line.name, line.quantity) for line in handed.items] == [("Eggs", 2)]
    assert [line.name for line in handed.waiting] == ["Milk"]
    assert not handed.code_used
    with pytest.raises(GoodsNotArrived):
        await handover.hand_over(session, LEADER, [sunny], await code_of(session, 100), now)
    await handover.confirm_arrival(session, LEADER, sunny, [2], now)
    rest = await handover.hand_over(session, LEADER, [sunny], await code_of(session, 100), now)
    assert [line.name for line in rest.items] == ["Milk"]
    assert rest.code_used


async def test_pickup_uses_the_code_up_and_refuses_it_after(
    session: AsyncSession, now: datetime, sunny: CommunityRef
) -> None:
    await handover.confirm_arrival(session, LEADER, sunny, [], now)
    code = await code_of(session, 100)
    handed = await handover.hand_over(session, LEADER, [sunny], code, now)
    assert handed.resident == "Alice"
    assert [(line.name, line.unit, line.quantity) for line in handed.items] == [
        ("Eggs", "box", 2),
        ("Milk", None, 1),
    ]
    assert handed.code_used
    later = now + timedelta(minutes=5)
    with pytest.raises(CodeUsed) as caught:
        await handover.hand_over(session, LEADER, [sunny], code, later)
    assert caught.value.used_at == now
    states = (await session.scalars(select(OrderRow.state).where(OrderRow.user_id == 100))).all()
    assert set(states) == {OrderState.PICKED_UP}


async def test_code_refusals(session: AsyncSession, now: datetime, sunny: CommunityRef) -> None:
    river = await make_community(session, now, chat_id=-1002, name="River", leader_id=60)
    await handover.confirm_arrival(session, LEADER, sunny, [], now)
    code = await code_of(session, 100)
    for bad in ("123", "12345678", "abcdefg", ""):
        with pytest.raises(CodeMalformed):
            await handover.hand_over(session, LEADER, [sunny], bad, now)
    unknown = "1000000" if code != "1000000" else "1000001"
    with pytest.raises(CodeUnknown):
        await handover.hand_over(session, LEADER, [sunny], unknown, now)
    with pytest.raises(CodeUnknown):  # as if it did not exist: another community's is not told
        await handover.hand_over(session, Actor(60, is_admin=False), [river], code, now)
    # The refusals changed nothing: the right leader can still hand over.
    assert (await handover.hand_over(session, LEADER, [sunny], code, now)).code_used


async def test_a_leader_typing_wrong_codes_fast_is_paused_and_the_admins_told(
    session: AsyncSession, now: datetime, sunny: CommunityRef
) -> None:
    await handover.confirm_arrival(session, LEADER, sunny, [], now)
    code = await code_of(session, 100)
    wrong = [str(n) for n in range(2_000_000, 2_000_020) if str(n) != code]
    for bad in ("12", "x" * 7):  # malformed: a typo, not a guess; not counted
        with pytest.raises(CodeMalformed):
            await handover.hand_over(session, LEADER, [sunny], bad, now)
    for n, guess in enumerate(wrong[: guessing.LIMIT - 1]):
        with pytest.raises(CodeUnknown):
            await handover.hand_over(session, LEADER, [sunny], guess, now + timedelta(seconds=n))
    assert await queued(session, "code_guessing") == []
    tenth = now + timedelta(seconds=30)
    with pytest.raises(CodeUnknown):
        await handover.undo_handover(session, LEADER, [sunny], wrong[-1], tenth, {1, 2})
    told = await queued(session, "code_guessing")
    assert sorted(row.chat_id for row in told) == [1, 2]
    assert told[0].payload["wrong"] == guessing.LIMIT
    assert told[0].payload["community"] == "Sunny Garden"
    # Paused: even the right code waits, and more guesses do not alert again.
    with pytest.raises(CodesPaused) as paused:
        await handover.hand_over(session, LEADER, [sunny], code, tenth + timedelta(seconds=1))
    assert paused.value.minutes == 5
    with pytest.raises(CodesPaused):
        await handover.hand_over(session, LEADER, [sunny], wrong[0], tenth + timedelta(minutes=4))
    assert len(await queued(session, "code_guessing")) == 2
    # Another leader is not paused; and after the pause the code works again.
    after = tenth + guessing.PAUSE
    assert (await handover.hand_over(session, LEADER, [sunny], code, after)).code_used


async def test_wrong_codes_spread_over_minutes_do_not_pause(
    session: AsyncSession, now: datetime, sunny: CommunityRef
) -> None:
    await handover.confirm_arrival(session, LEADER, sunny, [], now)
    code = await code_of(session, 100)
    for n in range(guessing.LIMIT * 2):
        guess = str(3_000_000 + n)
        with pytest.raises(CodeUnknown):
            await handover.hand_over(
                session, LEADER, [sunny], guess, now + timedelta(seconds=7 * n)
            )
    later = now + timedelta(seconds=7 * guessing.LIMIT * 2)
    assert (await handover.hand_over(session, LEADER, [sunny], code, later)).code_used
    assert await queued(session, "code_guessing") == []


async def test_undo_within_the_hour_only(
    session: AsyncSession, now: datetime, sunny: CommunityRef
) -> None:
    await handover.confirm_arrival(session, LEADER, sunny, [], now)
    alice, bob = await code_of(session, 100), await code_of(session, 101)
    with pytest.raises(NothingToUndo):
        await handover.undo_handover(session, LEADER, [sunny], alice, now)
    await handover.hand_over(session, LEADER, [sunny], alice, now)
    undone = await handover.undo_handover(
        session, LEADER, [sunny], alice, now + timedelta(minutes=59)
    )
    assert [line.name for line in undone.items] == ["Eggs", "Milk"]
    code = await session.scalar(
        select(PickupCode).where(PickupCode.code == alice).execution_options(populate_existing=True)
    )
    assert code is not None
    assert code.state is CodeState.ACTIVE
    assert code.used_at is None
    assert [u.resident for u in await handover.unpicked(session, LEADER, sunny)] == ["Alice", "Bob"]

    await handover.hand_over(session, LEADER, [sunny], bob, now)
    with pytest.raises(UndoTooLate):
        await handover.undo_handover(session, LEADER, [sunny], bob, now + timedelta(minutes=61))


async def test_unpicked_and_remind_at_most_hourly(
    session: AsyncSession, now: datetime, sunny: CommunityRef
) -> None:
    await handover.confirm_arrival(session, LEADER, sunny, [], now)
    await handover.hand_over(session, LEADER, [sunny], await code_of(session, 101), now)
    waiting = await handover.unpicked(session, LEADER, sunny)
    assert [(u.resident, [line.name for line in u.items]) for u in waiting] == [
        ("Alice", ["Eggs", "Milk"])
    ]
    # 10:59 and 11:00 are a minute apart, not an hour: the hour counts from the last reminder.
    at = now.replace(minute=59)
    assert await handover.remind(session, LEADER, sunny, at) == (1, 0)
    assert await handover.remind(session, LEADER, sunny, at + timedelta(minutes=1)) == (0, 1)
    assert await handover.remind(session, LEADER, sunny, at + timedelta(minutes=59)) == (0, 1)
    assert await handover.remind(session, LEADER, sunny, at + timedelta(minutes=60)) == (1, 0)
    reminders = (
        await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "reminder"))
    ).all()
    assert [m.user_id for m in reminders] == [100, 100]
    with pytest.raises(NotAllowed):
        await handover.remind(session, Actor(100, is_admin=False), sunny, now)


async def test_codes_of_a_resident(
    session: AsyncSession, now: datetime, sunny: CommunityRef
) -> None:
    codes = await handover.active_codes(session, 100)
    assert len(codes) == 1
    assert codes[0].code == await code_of(session, 100)
    assert [line.name for line in codes[0].items] == ["Eggs", "Milk"]
    await handover.confirm_arrival(session, LEADER, sunny, [], now)
    await handover.hand_over(session, LEADER, [sunny], codes[0].code, now)
    assert await handover.active_codes(session, 100) == []
