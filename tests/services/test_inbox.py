"""The inbox: updates are stored once, and an update's effect is marked in its own transaction."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.community.communities import CommunityRef
from bot.services.kernel import inbox
from bot.services.kernel.uow import AlreadyHandled, handling
from bot.services.ordering import joins
from models import InboxUpdate, Order
from tests.world import make_community, make_resident, publish


async def stored_update_and_item(
    session: AsyncSession, now: datetime, update_id: int, drop: str = "/drop\nEggs | 12"
) -> CommunityRef:
    """A community with resident 100, one item open, and update `update_id` in the inbox."""
    community = await make_community(session, now)
    await make_resident(session, 100, now)
    await publish(session, drop, now)
    await inbox.record(session, [(update_id, {})], now)
    return community


async def test_an_update_is_stored_once(session: AsyncSession, now: datetime) -> None:
    assert await inbox.record(session, [(1, {"a": 1}), (2, {"b": 2})], now) == {1, 2}
    assert await inbox.record(session, [(2, {"b": 2}), (3, {"c": 3})], now) == {3}
    await inbox.mark_finished(session, [1, 3], now)
    assert [u for u, _ in await inbox.claim_unfinished(session, now, timedelta(0))] == [2]


async def test_an_unhandled_update_is_claimed_once_and_only_when_stale(
    session: AsyncSession, now: datetime
) -> None:
    await inbox.record(session, [(5, {"e": 5})], now)
    minute = timedelta(minutes=1)
    assert await inbox.claim_unfinished(session, now + timedelta(seconds=30), minute) == []
    assert await inbox.claim_unfinished(session, now + minute, minute) == [(5, {"e": 5})]
    # Claiming made it young again: another instance sweeping now leaves it alone.
    assert await inbox.claim_unfinished(session, now + minute, minute) == []
    assert await inbox.claim_unfinished(session, now + 2 * minute, minute) == [(5, {"e": 5})]


async def test_updates_in_hand_stay_claimed_while_their_instance_beats(
    session: AsyncSession, now: datetime
) -> None:
    await inbox.record(session, [(6, {"f": 6}), (7, {"g": 7})], now)
    stale = timedelta(seconds=10)
    # The instance handling 6 is alive and renews it; the one that had 7 was killed.
    await inbox.keep_claimed(session, [6], now + timedelta(seconds=8))
    claimed = await inbox.claim_unfinished(session, now + timedelta(seconds=12), stale)
    assert [u for u, _ in claimed] == [7]
    # Handled updates are not renewed back to life, and a silent instance's update goes stale.
    await inbox.mark_finished(session, [7], now + timedelta(seconds=12))
    await inbox.keep_claimed(session, [7], now + timedelta(seconds=30))
    claimed = await inbox.claim_unfinished(session, now + timedelta(seconds=30), stale)
    assert [u for u, _ in claimed] == [6]


async def test_the_effect_and_its_mark_commit_together(
    session: AsyncSession, now: datetime
) -> None:
    community = await stored_update_and_item(session, now, 7)

    with handling(7) as first:
        await joins.join(session, community.id, 100, now, number=1, quantity=2)
    assert first.handled
    handled_at = await session.scalar(
        select(InboxUpdate.handled_at).where(InboxUpdate.update_id == 7)
    )
    assert handled_at is not None  # at once, not by the later batch
    await session.commit()

    # The same update handled again (a crash before anyone knew it was done): refused, unchanged.
    with handling(7), pytest.raises(AlreadyHandled):
        await joins.join(session, community.id, 100, now, number=1, quantity=2)
    assert await session.scalar(select(Order.quantity)) == 2


async def test_a_refusal_does_not_mark_the_update(session: AsyncSession, now: datetime) -> None:
    community = await stored_update_and_item(session, now, 8, "/drop\nEggs | 12 | stock=1")
    with handling(8) as mark, pytest.raises(joins.SoldOut):
        await joins.join(session, community.id, 100, now, number=1, quantity=2)
    assert not mark.handled
    assert [u for u, _ in await inbox.claim_unfinished(session, now, timedelta(0))] == [8]


async def test_a_handled_update_is_claimed_again_until_it_is_finished(
    session: AsyncSession, now: datetime
) -> None:
    community = await stored_update_and_item(session, now, 9)
    with handling(9):
        first = await joins.join(session, community.id, 100, now, number=1, quantity=2)
    # Its instance died before answering: the update is handled (its effect happened), and
    # still handed out again, for the answer.
    assert [u for u, _ in await inbox.claim_unfinished(session, now, timedelta(0))] == [9]

    with handling(9):
        again = await joins.join_again_or_first(
            session, community.id, 100, now, number=1, quantity=2
        )
    assert again is not None
    assert (again.seq, again.quantity, again.added, again.members) == (first.seq, 2, 0, 1)
    assert await session.scalar(select(Order.quantity)) == 2  # not joined twice

    await inbox.mark_finished(session, [9], now)
    assert await inbox.claim_unfinished(session, now, timedelta(0)) == []


async def test_finishing_an_update_that_changed_nothing_marks_it_handled_too(
    session: AsyncSession, now: datetime
) -> None:
    await inbox.record(session, [(11, {}), (12, {})], now)
    later = now + timedelta(seconds=5)
    await inbox.mark_finished(session, [11], later)
    rows = dict(
        (await session.execute(select(InboxUpdate.update_id, InboxUpdate.handled_at))).all()
    )
    assert rows == {11: later, 12: None}


async def test_standing_is_none_for_an_item_the_resident_left(
    session: AsyncSession, now: datetime
) -> None:
    community = await make_community(session, now)
    await make_resident(session, 100, now)
    await publish(session, "/drop\nEggs | 12", now)
    await joins.join(session, community.id, 100, now, number=1)
    assert await joins.standing(session, community.id, 100, number=1) is not None
    await joins.cancel(session, community.id, 100, 1, now)
    assert await joins.standing(session, community.id, 100, number=1) is None
