"""Effects after commit: what a unit of work records reaches the listeners only once it committed."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.after_sale import requests
from bot.services.after_sale.requests import Requested
from bot.services.kernel import effects
from bot.services.kernel.effects import Effects
from bot.services.kernel.errors import ItemNotFound, SoldOut
from bot.services.kernel.uow import unit_of_work
from bot.services.ordering import closing, joins
from bot.services.ordering.joins import CancelResult
from tests.world import ADMIN, make_community, make_resident, publish

ADMINS = frozenset({ADMIN.user_id})


async def test_a_join_asks_for_its_post_to_be_redrawn_once_committed(
    session: AsyncSession, now: datetime, committed: list[Effects]
) -> None:
    sunny = await make_community(session, now)
    await make_resident(session, 100, now)
    await publish(session, "/drop deadline=+2h\nEggs | 12 | stock=1", now)
    committed.clear()
    joined = await joins.join(session, sunny.id, 100, now, number=1)
    assert committed == [Effects(posts={joined.post_id})]
    with pytest.raises(SoldOut):
        await joins.join(session, sunny.id, 100, now, number=1)
    assert len(committed) == 1  # rolled back: nothing to redraw


async def test_closing_queues_notices_and_redraws_the_post(
    session: AsyncSession, now: datetime, committed: list[Effects]
) -> None:
    sunny = await make_community(session, now)
    await make_resident(session, 100, now)
    await publish(session, "/drop deadline=+1h\nEggs | 12\nMilk | 8", now)
    joined = await joins.join(session, sunny.id, 100, now, number=1)
    committed.clear()
    await closing.close_due(session, now + timedelta(hours=1))
    assert committed == [Effects(queued=True, posts={joined.post_id})]


async def test_units_inside_a_unit_hand_on_their_effects_with_the_outer_commit(
    session: AsyncSession, now: datetime, committed: list[Effects]
) -> None:
    sunny = await make_community(session, now)
    await make_resident(session, 100, now)
    await publish(session, "/drop deadline=+1h\nEggs | 12", now)
    await joins.join(session, sunny.id, 100, now, number=1)
    committed.clear()
    left = await requests.leave(session, sunny, 100, 1, ADMINS, now)
    assert isinstance(left, CancelResult)
    assert len(committed) == 1 and committed[0].posts == {left.post_id}

    await joins.join(session, sunny.id, 100, now, number=1)
    await closing.close_due(session, now + timedelta(hours=1))
    committed.clear()
    asked = await requests.leave(session, sunny, 100, 1, ADMINS, now)
    assert isinstance(asked, Requested)  # formed: leaving is a request to the admins
    assert committed == [Effects(queued=True)]
    with pytest.raises(ItemNotFound):
        await requests.leave(session, sunny, 100, 7, ADMINS, now)
    assert len(committed) == 1


async def test_a_retried_transaction_hands_on_only_the_attempt_that_committed(
    session: AsyncSession, committed: list[Effects]
) -> None:
    attempts = []

    @unit_of_work
    async def flaky(session: AsyncSession) -> None:
        attempts.append(len(attempts) + 1)
        effects.redraw(session, [len(attempts)])
        if len(attempts) == 1:
            raise OperationalError("UPDATE …", {}, Exception("database is locked"))

    await flaky(session)
    assert attempts == [1, 2]
    assert committed == [Effects(posts={2})]
