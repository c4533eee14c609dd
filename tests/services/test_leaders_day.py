"""The leader's day beyond the core loop: shortages, the shipping list, automatic reminders,
deadline nudges and which drop posts are live."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.db import create_session_factory
from bot.services.community import communities
from bot.services.community.communities import CommunityRef, SettingsChange
from bot.services.community.people import Actor
from bot.services.kernel.errors import (
    ItemNotFormed,
    NotAllowed,
    NothingToHandOver,
    NothingToShip,
    ShortTooMany,
)
from bot.services.ordering import closing, joins, live_posts, nudges, shortages
from bot.services.pickup import handover, reminders, shipping
from models import DropPost, Order, OrderState
from tests.world import (
    ADMIN,
    SHANGHAI,
    code_of,
    make_community,
    make_resident,
    publish,
    queued,
    reload,
)

LEADER = Actor(50, is_admin=False)
ALICE, BOB = 100, 101


@pytest.fixture
async def sunny(session: AsyncSession, now: datetime) -> CommunityRef:
    """Alice joined Eggs ×2 first, then Bob Eggs ×1; Alice also Milk. Closed at 11:00 Shanghai
    on 11-24; pickup 11-25."""
    community = await make_community(session, now, leader_id=LEADER.user_id)
    await make_resident(session, ALICE, now, "Alice")
    await make_resident(session, BOB, now, "Bob")
    await publish(session, "/drop deadline=+1h min=1\nEggs | 12 | box\nMilk | 8\nTea | 30", now)
    await joins.join(session, community.id, ALICE, now, number=1, quantity=2)
    await joins.join(session, community.id, ALICE, now, number=2)
    await joins.join(session, community.id, BOB, now, number=1)
    await closing.close_due(session, now + timedelta(hours=1))
    return community


# -- Shortages ------------------------------------------------------------------------------


async def test_a_shortage_falls_on_the_latest_joiners_first(
    session: AsyncSession, now: datetime, sunny: CommunityRef
) -> None:
    result = await shortages.report_short(session, LEADER, sunny, 1, 2, now)
    assert (result.short, result.to_hand_over) == (2, 1)
    # Bob joined last: he loses his one box; Alice loses one of her two.
    assert [(a.resident, a.short, a.kept) for a in result.affected] == [
        ("Bob", 1, 0),
        ("Alice", 1, 1),
    ]
    states = dict(
        (await session.execute(select(Order.user_id, Order.state).where(Order.quantity > 0))).all()
    )
    await session.commit()
    assert states[BOB] is OrderState.SHORT

    notices = {row.user_id: row.payload for row in await queued(session, "short")}
    assert notices[BOB]["refund"] == 1200 and notices[BOB]["items"][0]["kept"] == 0
    assert notices[ALICE]["refund"] == 1200 and notices[ALICE]["items"][0]["kept"] == 1

    picking = await handover.summary(session, LEADER, sunny, None)
    eggs = picking.items[0]
    assert (eggs.name, eggs.quantity, eggs.buyers, eggs.short) == ("Eggs", 1, 1, 2)
    assert [
        (name, [(li.name, li.quantity) for li in lines]) for name, lines in picking.residents
    ] == [("Alice", [("Eggs", 1), ("Milk", 1)])]

    # On arrival, the "ready" messages and the handover count what arrived.
    await handover.confirm_arrival(session, LEADER, sunny, [], now + timedelta(days=1))
    ready = {row.user_id: row.payload for row in await queued(session, "ready")}
    assert set(ready) == {ALICE}  # Bob has nothing left to collect
    assert [(i["name"], i["quantity"]) for i in ready[ALICE]["items"]] == [("Eggs", 1), ("Milk", 1)]
    with pytest.raises(NothingToHandOver):
        await handover.hand_over(session, LEADER, [sunny], await code_of(session, BOB), now)
    handed = await handover.hand_over(session, LEADER, [sunny], await code_of(session, ALICE), now)
    assert [(line.name, line.quantity) for line in handed.items] == [("Eggs", 1), ("Milk", 1)]

    mine = {o.name: o for o in await joins.my_orders(session, ALICE, now)}
    assert (mine["Eggs"].short, mine["Eggs"].amount) == (1, 1200)


async def test_a_shortage_is_refused_when_it_cannot_be_true(
    session: AsyncSession, now: datetime, sunny: CommunityRef
) -> None:
    with pytest.raises(ShortTooMany) as caught:
        await shortages.report_short(session, LEADER, sunny, 1, 4, now)
    assert caught.value.available == 3
    with pytest.raises(ItemNotFormed) as failed:
        await shortages.report_short(session, LEADER, sunny, 3, 1, now)  # Tea did not form
    assert failed.value.state == "failed"
    with pytest.raises(ItemNotFormed) as missing:
        await shortages.report_short(session, LEADER, sunny, 9, 1, now)
    assert missing.value.state is None
    with pytest.raises(NotAllowed):
        await shortages.report_short(session, Actor(ALICE, is_admin=False), sunny, 1, 1, now)
    shorts = (await session.scalars(select(Order.short_quantity))).all()
    await session.commit()
    assert set(shorts) == {0}
    assert await queued(session, "short") == []


async def test_a_second_shortage_after_arrival_adds_up(
    session: AsyncSession, now: datetime, sunny: CommunityRef
) -> None:
    await handover.confirm_arrival(session, LEADER, sunny, [], now)
    await shortages.report_short(session, LEADER, sunny, 1, 1, now)
    await shortages.report_short(session, LEADER, sunny, 1, 1, now)
    # Bob (latest) first, then Alice: two separate notices, each about its own change.
    assert [row.user_id for row in await queued(session, "short")] == [BOB, ALICE]
    with pytest.raises(ShortTooMany) as caught:
        await shortages.report_short(session, LEADER, sunny, 1, 2, now)
    assert caught.value.available == 1


# -- The shipping list ----------------------------------------------------------------------


async def test_the_shipping_list_groups_by_route_then_pickup_point(
    session: AsyncSession, now: datetime, sunny: CommunityRef
) -> None:
    await communities.update_point(
        session, LEADER, sunny, {"route": "North-2", "address": "3 Gate Rd"}
    )
    moon = await make_community(session, now, chat_id=-1002, name="Moon Court", leader_id=51)
    await make_resident(session, 102, now, "Carol")
    await publish(session, "/drop deadline=+1h min=1\nRice | 40", now)
    rice_here = (await joins.open_items(session, sunny.id, now))[0]
    rice_there = (await joins.open_items(session, moon.id, now))[0]
    await joins.join(session, sunny.id, BOB, now, group_buy_id=rice_here.group_buy_id)
    await joins.join(session, moon.id, 102, now, group_buy_id=rice_there.group_buy_id, quantity=3)
    await closing.close_due(session, now + timedelta(hours=1))

    load = await shipping.shipping_list(session, ADMIN, None)
    assert load.pickup_date == date(2026, 11, 25)
    assert [route.route for route in load.routes] == ["North-2", None]
    north = load.routes[0].stops[0]
    assert north.community == "Sunny Garden" and north.point.address == "3 Gate Rd"
    assert sorted((li.name, li.quantity) for li in north.lines) == [
        ("Eggs", 3),
        ("Milk", 1),
        ("Rice", 1),
    ]
    assert [
        (s.community, [(li.name, li.quantity) for li in s.lines]) for s in load.routes[1].stops
    ] == [("Moon Court", [("Rice", 3)])]
    assert load.totals == [("Eggs", "box", 3), ("Milk", None, 1), ("Rice", None, 4)]

    await shortages.report_short(session, LEADER, sunny, 1, 3, now)
    load = await shipping.shipping_list(session, ADMIN, date(2026, 11, 25))
    assert sorted(li.name for li in load.routes[0].stops[0].lines) == ["Milk", "Rice"]

    with pytest.raises(NothingToShip):
        await shipping.shipping_list(session, ADMIN, date(2026, 12, 1))
    with pytest.raises(NotAllowed):
        await shipping.shipping_list(session, LEADER, None)


# -- Automatic reminders --------------------------------------------------------------------


def shanghai(day: int, hour: int, minute: int = 0) -> datetime:
    """11-`day` at hour:minute in Shanghai, as UTC."""
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


async def test_residents_with_goods_waiting_are_reminded_on_the_pickup_day_and_the_next(
    session: AsyncSession, now: datetime, sunny: CommunityRef
) -> None:
    await handover.confirm_arrival(session, LEADER, sunny, [], shanghai(25, 9))
    assert await reminders.auto_remind(session, shanghai(25, 18, 59)) == 0
    assert await reminders.auto_remind(session, shanghai(25, 19, 0)) == 2
    assert await reminders.auto_remind(session, shanghai(25, 19, 1)) == 0  # once a day
    await handover.hand_over(session, LEADER, [sunny], await code_of(session, ALICE), now)
    assert await reminders.auto_remind(session, shanghai(26, 19, 5)) == 1  # Bob, the next day
    assert await reminders.auto_remind(session, shanghai(27, 19, 5)) == 0  # never a third day
    sent = await queued(session, "reminder")
    assert [row.user_id for row in sent] == [ALICE, BOB, BOB]


async def test_goods_that_arrive_after_the_reminder_time_wait_for_the_next_day(
    session: AsyncSession, now: datetime, sunny: CommunityRef
) -> None:
    await handover.confirm_arrival(session, LEADER, sunny, [], shanghai(25, 19, 30))
    assert await reminders.auto_remind(session, shanghai(25, 19, 45)) == 0
    assert await reminders.auto_remind(session, shanghai(26, 19, 0)) == 2


async def test_reminders_can_be_moved_or_turned_off_and_are_not_made_up_hours_late(
    session: AsyncSession, now: datetime, sunny: CommunityRef
) -> None:
    await handover.confirm_arrival(session, LEADER, sunny, [], shanghai(25, 9))
    assert await reminders.auto_remind(session, shanghai(25, 22, 30)) == 0  # 3.5 h late: no
    await communities.update_settings(
        session, LEADER, await reload(session, sunny.id), SettingsChange(reminder_time="")
    )
    assert await reminders.auto_remind(session, shanghai(26, 19, 0)) == 0
    await communities.update_settings(
        session, LEADER, await reload(session, sunny.id), SettingsChange(reminder_time="08:30")
    )
    assert await reminders.auto_remind(session, shanghai(26, 8, 31)) == 2


async def test_a_reminder_time_set_later_the_same_day_still_reminds_that_day(
    session: AsyncSession, now: datetime, sunny: CommunityRef
) -> None:
    # The default 19:00 look happened with nothing ready; the leader then sets 20:30.
    assert await reminders.auto_remind(session, shanghai(25, 19, 30)) == 0
    await handover.confirm_arrival(session, LEADER, sunny, [], shanghai(25, 19, 40))
    await communities.update_settings(
        session, LEADER, await reload(session, sunny.id), SettingsChange(reminder_time="20:30")
    )
    assert await reminders.auto_remind(session, shanghai(25, 20, 30)) == 2
    await communities.update_settings(
        session, LEADER, await reload(session, sunny.id), SettingsChange(reminder_time="20:45")
    )
    assert await reminders.auto_remind(session, shanghai(25, 20, 45)) == 0  # once a day each


# -- Deadline nudges ------------------------------------------------------------------------


async def test_items_short_of_their_minimum_are_nudged_once_per_moment(
    session: AsyncSession, now: datetime
) -> None:
    community = await make_community(session, now, leader_id=LEADER.user_id)
    for user in (ALICE, BOB):
        await make_resident(session, user, now)
    await publish(session, "/drop deadline=+2h min=3\nEggs | 12\nMilk | 8 | min=1", now)
    await joins.join(session, community.id, ALICE, now, number=1)
    await joins.join(session, community.id, ALICE, now, number=2)
    deadline = now + timedelta(hours=2)
    assert await nudges.nudge_moments(session, now) == [
        deadline - timedelta(hours=1),
        deadline - timedelta(minutes=15),
    ]

    assert await nudges.nudge_due(session, deadline - timedelta(hours=1, minutes=1)) == 0
    assert await nudges.nudge_due(session, deadline - timedelta(hours=1)) == 1
    assert await nudges.nudge_due(session, deadline - timedelta(minutes=59)) == 0  # same moment
    await joins.join(session, community.id, BOB, now, number=1)
    assert await nudges.nudge_due(session, deadline - timedelta(minutes=15)) == 1
    assert await nudges.nudge_due(session, deadline - timedelta(minutes=1)) == 0  # never a third
    sent = await queued(session, "nudge")
    assert [row.payload["items"] for row in sent] == [
        [{"number": 1, "name": "Eggs", "more": 2}],  # Milk has its one member: not nudged
        [{"number": 1, "name": "Eggs", "more": 1}],
    ]
    assert {row.chat_id for row in sent} == {community.chat_id}


async def test_no_nudge_right_after_posting_late_or_when_turned_off(
    session: AsyncSession, now: datetime
) -> None:
    community = await make_community(session, now, leader_id=LEADER.user_id)
    await publish(session, "/drop deadline=+1h min=3\nEggs | 12", now)
    # The hour-before moment is the posting moment itself: nobody has had time to answer.
    assert await nudges.nudge_due(session, now) == 0
    # The quarter-hour moment, found only 11 minutes later (the bot was down): too late to help.
    assert await nudges.nudge_due(session, now + timedelta(minutes=56)) == 0
    await communities.update_settings(
        session, LEADER, community, SettingsChange(first_nudge=0, second_nudge=0)
    )
    assert await nudges.nudge_moments(session, now) == []
    assert await nudges.nudge_due(session, now + timedelta(minutes=45)) == 0
    assert await queued(session, "nudge") == []


# -- Live posts -----------------------------------------------------------------------------


async def test_a_post_is_live_while_open_and_until_its_outcome_is_drawn(
    session: AsyncSession, now: datetime
) -> None:
    await make_community(session, now, leader_id=LEADER.user_id)
    await publish(session, "/drop deadline=+1h min=1\nEggs | 12", now)
    post_id = await session.scalar(select(DropPost.id))
    await session.commit()
    assert post_id is not None
    assert await live_posts.live_post_ids(session) == []  # not out yet: nothing to edit
    await session.execute(update(DropPost).values(message_ids=[7], edited_at=now))
    await session.commit()
    assert await live_posts.live_post_ids(session) == [post_id]

    closed = await closing.close_due(session, now + timedelta(hours=1))
    assert {item.post_id for item in closed} == {post_id}
    assert await live_posts.live_post_ids(session) == [post_id]  # the outcome is not drawn yet
    live = await live_posts.live_post(session, post_id)
    assert live is not None and live.message_ids == [7]
    await live_posts.record_drawing(session, post_id, "abc", now + timedelta(hours=1, seconds=5))
    assert await live_posts.live_post_ids(session) == []


async def test_one_instance_at_a_time_draws_a_post_and_never_within_the_gap(
    engine: AsyncEngine, session: AsyncSession, now: datetime
) -> None:
    await make_community(session, now, leader_id=LEADER.user_id)
    await publish(session, "/drop deadline=+1h min=1\nEggs | 12", now)
    post_id = await session.scalar(select(DropPost.id))
    await session.execute(update(DropPost).values(message_ids=[7]))
    await session.commit()
    assert post_id is not None
    gap, lease = timedelta(seconds=9), timedelta(seconds=60)
    factory = create_session_factory(engine)

    async def claim(at: datetime) -> bool:
        async with factory() as own:
            return await live_posts.claim_drawing(own, post_id, at, gap, lease)

    # Three instances touched by the same burst: one of them edits.
    assert sorted(await asyncio.gather(claim(now), claim(now), claim(now))) == [False, False, True]
    assert not await claim(now + timedelta(seconds=30))  # the holder is still at it
    await live_posts.record_drawing(session, post_id, "abc", now + timedelta(seconds=1))
    assert not await claim(now + timedelta(seconds=5))  # drawn 4 s ago: within the gap
    assert await claim(now + timedelta(seconds=10))  # past the gap
    # That holder failed and gave the post back: it can be drawn again at once.
    await live_posts.release_drawing(session, post_id)
    assert await claim(now + timedelta(seconds=11))
    # That one was killed while drawing: its lease lapses by itself.
    assert not await claim(now + timedelta(seconds=70))
    assert await claim(now + timedelta(seconds=71))
