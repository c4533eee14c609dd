"""Drafting, publishing and posting drops."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.community.people import Actor
from bot.services.kernel.effects import Effects
from bot.services.kernel.errors import (
    DropAlreadyPublished,
    DropNotFound,
    NoActiveCommunities,
    NotAllowed,
    PickupBeforeDeadline,
)
from bot.services.ordering import closing, drops
from bot.services.ordering.drop_format import parse_drop
from models import DropPost, GroupBuy, GroupBuyState, OutboxMessage, PostState
from tests.world import ADMIN, SHANGHAI, group_buy, make_community, publish


async def test_publish_now_opens_numbered_items_in_every_active_community(
    session: AsyncSession, now: datetime, committed: list[Effects]
) -> None:
    sunny = await make_community(session, now, chat_id=-1001, name="Sunny")
    river = await make_community(session, now, chat_id=-1002, name="River")
    publication = await publish(session, "/drop deadline=+2h min=3\nEggs | 12\nMilk | 8", now)

    assert publication.communities == 2
    assert publication.post_at is None
    # The timekeeper is to wake at the deadline and the default nudges (1 h and 15 min before).
    deadline = now + timedelta(hours=2)
    assert committed[-1].moments == {
        deadline,
        deadline - timedelta(hours=1),
        now + timedelta(minutes=105),
    }
    assert committed[-1].queued
    for community in (sunny, river):
        eggs = await group_buy(session, community.id, 1)
        milk = await group_buy(session, community.id, 2)
        assert eggs.state is GroupBuyState.OPEN
        assert (eggs.unit_price, milk.unit_price) == (1200, 800)
        assert eggs.min_members == 3
        assert eggs.deadline == now + timedelta(hours=2)
        assert eggs.pickup_date == date(2026, 11, 25)  # the day after the deadline
    posts = (
        await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "drop_post"))
    ).all()
    assert sorted(p.chat_id for p in posts) == [-1002, -1001]


async def test_clock_deadline_is_local_to_each_community(
    session: AsyncSession, now: datetime
) -> None:
    shanghai = await make_community(session, now, chat_id=-1001, timezone="Asia/Shanghai")
    london = await make_community(session, now, chat_id=-1002, timezone="Europe/London")
    await publish(session, "/drop deadline=20:00\nEggs | 12", now)

    # now is 10:00 in Shanghai and 02:00 in London: both close at 20:00 their time today.
    assert (await group_buy(session, shanghai.id, 1)).deadline == datetime(
        2026, 11, 24, 12, 0, tzinfo=UTC
    )
    assert (await group_buy(session, london.id, 1)).deadline == datetime(
        2026, 11, 24, 20, 0, tzinfo=UTC
    )


async def test_clock_deadline_already_past_today_means_tomorrow(
    session: AsyncSession, now: datetime
) -> None:
    sunny = await make_community(session, now)
    await publish(session, "/drop deadline=09:00\nEggs | 12", now)  # it is 10:00 there
    assert (await group_buy(session, sunny.id, 1)).deadline == datetime(
        2026, 11, 25, 1, 0, tzinfo=UTC
    )


async def test_a_new_drop_continues_after_live_numbers_and_restarts_when_free(
    session: AsyncSession, now: datetime
) -> None:
    sunny = await make_community(session, now)
    await publish(session, "/drop deadline=+1h\nA | 1\nB | 1", now)
    await publish(session, "/drop deadline=+3h\nC | 1\nD | 1\nE | 1", now)
    numbers = (
        (
            await session.execute(
                select(GroupBuy.number)
                .where(GroupBuy.community_id == sunny.id)
                .order_by(GroupBuy.id)
            )
        )
        .scalars()
        .all()
    )
    assert numbers == [1, 2, 3, 4, 5]

    # The first drop fails (nobody joined): its numbers 1 and 2 are free again.
    await closing.close_due(session, now + timedelta(hours=2))
    await publish(session, "/drop deadline=+1h\nF | 1", now + timedelta(hours=2))
    assert (await group_buy(session, sunny.id, 1)).state is GroupBuyState.OPEN


async def test_scheduled_publication_posts_at_the_local_time(
    session: AsyncSession, now: datetime, committed: list[Effects]
) -> None:
    sunny = await make_community(session, now)
    publication = await publish(session, "/drop deadline=+2h\nEggs | 12", now, at=time(18, 0))
    post_at = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # 18:00 in Shanghai
    assert publication.post_at == post_at
    assert committed[-1].moments == {post_at}
    assert not committed[-1].queued  # nothing goes out before 18:00

    assert await drops.post_due(session, now) == []
    gb = await session.scalar(select(GroupBuy).where(GroupBuy.community_id == sunny.id))
    assert gb is not None
    assert gb.state is GroupBuyState.SCHEDULED
    assert gb.number is None

    assert await drops.post_due(session, post_at) == [post_at + timedelta(hours=2)]
    assert await drops.post_due(session, post_at) == []  # idempotent
    opened = await group_buy(session, sunny.id, 1)
    assert opened.deadline == post_at + timedelta(hours=2)
    post = await session.scalar(select(DropPost))
    assert post is not None
    assert post.state is PostState.POSTED


async def test_pickup_before_the_deadline_is_refused_and_nothing_is_stored(
    session: AsyncSession, now: datetime
) -> None:
    spec = parse_drop("/drop deadline=+3d pickup=tomorrow\nEggs | 12")
    with pytest.raises(PickupBeforeDeadline):
        await drops.create_drop(session, ADMIN, spec, "…", SHANGHAI, now)
    await session.commit()
    assert await session.scalar(select(func.count()).select_from(GroupBuy)) == 0


async def test_publication_refusals(session: AsyncSession, now: datetime) -> None:
    spec = parse_drop("/drop\nEggs | 12")
    preview = await drops.create_drop(session, ADMIN, spec, "…", SHANGHAI, now)
    with pytest.raises(NoActiveCommunities):
        await drops.publish(session, ADMIN, preview.drop_id, None, now)
    await make_community(session, now)
    with pytest.raises(NotAllowed):
        await drops.publish(session, Actor(5, is_admin=False), preview.drop_id, None, now)
    with pytest.raises(DropNotFound):
        await drops.publish(session, ADMIN, 999, None, now)
    await drops.publish(session, ADMIN, preview.drop_id, None, now)
    with pytest.raises(DropAlreadyPublished):
        await drops.publish(session, ADMIN, preview.drop_id, None, now)


async def test_non_admin_cannot_draft(session: AsyncSession, now: datetime) -> None:
    with pytest.raises(NotAllowed):
        await drops.create_drop(
            session, Actor(7, is_admin=False), parse_drop("/drop\nA | 1"), "…", SHANGHAI, now
        )


async def test_scheduled_times_lists_deadlines_and_posts(
    session: AsyncSession, now: datetime
) -> None:
    await make_community(session, now)
    await publish(session, "/drop deadline=+1h\nA | 1", now)
    await publish(session, "/drop deadline=+1h\nB | 1", now, at=time(18, 0))
    assert await drops.scheduled_times(session) == [
        now + timedelta(hours=1),
        datetime(2026, 11, 24, 10, 0, tzinfo=UTC),
    ]
