"""After-sale: cancelling a formed order with an admin's approval until its date ships, and
returns of picked-up goods within their window, with photos."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.after_sale import requests
from bot.services.books import ledger
from bot.services.community.communities import CommunityRef
from bot.services.community.people import Actor
from bot.services.kernel.errors import (
    AlreadyRequested,
    AlreadyShipped,
    ItemNotFound,
    NotAllowed,
    NotReturnable,
    RequestDecided,
    RequestUnknown,
    ReturnWindowOver,
    TooFewPhotos,
)
from bot.services.ordering import closing, joins
from bot.services.pickup import handover, shipping
from models import CodeState, Order, PickupCode
from tests.world import ADMIN, make_community, make_resident, publish, queued

LEADER = Actor(50, is_admin=False)
ALICE, BOB = 100, 101
ADMINS = frozenset({ADMIN.user_id, 2})
PICKUP = date(2026, 11, 25)
PHOTOS = ["photo-a", "photo-b"]


@pytest.fixture
async def formed(session: AsyncSession, now: datetime) -> CommunityRef:
    community = await make_community(session, now, leader_id=LEADER.user_id)
    await make_resident(session, ALICE, now, "Alice")
    await make_resident(session, BOB, now, "Bob")
    await publish(
        session,
        "/drop deadline=+1h min=1\nEggs | 12\nPeaches | 30 | noreturn\nRice | 40 | return=72h",
        now,
    )
    for number in (1, 2, 3):
        await joins.join(session, community.id, ALICE, now, number=number)
    await joins.join(session, community.id, BOB, now, number=1, quantity=2)
    await closing.close_due(session, now + timedelta(hours=1))
    return community


async def order_state(session: AsyncSession, user_id: int) -> list[str]:
    states = (
        await session.scalars(
            select(Order.state).where(Order.user_id == user_id).order_by(Order.id)
        )
    ).all()
    await session.commit()
    return [state.value for state in states]


async def test_a_formed_order_is_cancelled_only_with_an_admins_approval(
    session: AsyncSession, now: datetime, formed: CommunityRef
) -> None:
    asked = await requests.request_cancel(session, formed, BOB, 1, ADMINS, now)
    assert (asked.number, asked.name) == (1, "Eggs")
    to_admins = await queued(session, "after_sale")
    assert sorted(r.chat_id for r in to_admins) == sorted(ADMINS)
    assert to_admins[0].payload["kind"] == "cancel" and to_admins[0].payload["amount"] == 2400
    with pytest.raises(AlreadyRequested):
        await requests.request_cancel(session, formed, BOB, 1, ADMINS, now)
    with pytest.raises(ItemNotFound):
        await requests.request_cancel(session, formed, BOB, 2, ADMINS, now)  # not his
    with pytest.raises(NotAllowed):
        await requests.decide(session, LEADER, asked.request_id, True, now)
    with pytest.raises(RequestUnknown):
        await requests.decide(session, ADMIN, 999, True, now)

    decision = await requests.decide(session, ADMIN, asked.request_id, True, now)
    assert decision.approved and decision.resident == "Bob"
    assert await order_state(session, BOB) == ["cancelled"]
    with pytest.raises(RequestDecided):
        await requests.decide(session, ADMIN, asked.request_id, False, now)
    told = await queued(session, "decision")
    assert [(t.chat_id, t.payload["approved"]) for t in told] == [(BOB, True)]
    picking = await handover.summary(session, LEADER, formed, None)
    eggs = picking.items[0]
    assert (eggs.name, eggs.quantity, eggs.buyers) == ("Eggs", 1, 1)
    load = await shipping.shipping_list(session, ADMIN, PICKUP)
    loaded = load.routes[0].stops[0].lines[0]
    assert (loaded.name, loaded.quantity) == ("Eggs", 1)


async def test_a_rejected_cancellation_leaves_the_order(
    session: AsyncSession, now: datetime, formed: CommunityRef
) -> None:
    asked = await requests.request_cancel(session, formed, BOB, 1, ADMINS, now)
    decision = await requests.decide(session, ADMIN, asked.request_id, False, now)
    assert not decision.approved
    assert await order_state(session, BOB) == ["confirmed"]
    # Once decided, the resident may ask again.
    await requests.request_cancel(session, formed, BOB, 1, ADMINS, now)


async def test_no_cancellation_once_the_date_has_shipped(
    session: AsyncSession, now: datetime, formed: CommunityRef
) -> None:
    waiting = await requests.request_cancel(session, formed, BOB, 1, ADMINS, now)
    shipped = await requests.mark_shipped(session, ADMIN, PICKUP, now)
    assert shipped.newly and shipped.pending_cancellations == 1
    assert not (await requests.mark_shipped(session, ADMIN, PICKUP, now)).newly
    with pytest.raises(AlreadyShipped):
        await requests.decide(session, ADMIN, waiting.request_id, True, now)
    with pytest.raises(AlreadyShipped):
        await requests.request_cancel(session, formed, ALICE, 1, ADMINS, now)
    with pytest.raises(NotAllowed):
        await requests.mark_shipped(session, LEADER, PICKUP, now)
    assert await order_state(session, BOB) == ["confirmed"]


async def picked_up(session: AsyncSession, community: CommunityRef, at: datetime) -> None:
    await handover.confirm_arrival(session, LEADER, community, [], at)
    code = await session.scalar(
        select(PickupCode.code).where(
            PickupCode.user_id == ALICE, PickupCode.state == CodeState.ACTIVE
        )
    )
    await session.commit()
    assert code is not None
    await handover.hand_over(session, LEADER, [community], code, at)


async def test_a_return_within_the_window_with_photos_reverses_points_and_commission(
    session: AsyncSession, now: datetime, formed: CommunityRef
) -> None:
    orders = (await session.scalars(select(Order.id).where(Order.user_id == ALICE))).all()
    await session.commit()
    with pytest.raises(NotReturnable):  # not picked up yet
        await requests.check_return(session, ALICE, orders[0], now)
    at = now + timedelta(days=1)
    await picked_up(session, formed, at)
    candidates = await requests.return_candidates(session, ALICE, at)
    by_name = {c.name: c for c in candidates}
    eggs, peaches, rice = (by_name[n].order_id for n in ("Eggs", "Peaches", "Rice"))
    assert not by_name["Peaches"].returnable
    assert by_name["Rice"].until == at + timedelta(hours=72)

    with pytest.raises(NotReturnable) as refused:
        await requests.check_return(session, ALICE, peaches, at)
    assert refused.value.why == "noreturn"
    with pytest.raises(NotReturnable):
        await requests.check_return(session, BOB, eggs, at)  # not Bob's order
    late = at + timedelta(hours=49)
    with pytest.raises(ReturnWindowOver):
        await requests.check_return(session, ALICE, eggs, late)
    assert (await requests.check_return(session, ALICE, rice, late)).name == "Rice"
    with pytest.raises(TooFewPhotos):
        await requests.request_return(session, ALICE, eggs, "cracked", ["one"], ADMINS, at)

    before = (await ledger.points(session, ALICE)).balance
    asked = await requests.request_return(session, ALICE, eggs, "cracked", PHOTOS, ADMINS, at)
    request = (await queued(session, "after_sale"))[0]
    assert request.payload["photos"] == PHOTOS and request.payload["reason"] == "cracked"
    with pytest.raises(AlreadyRequested):
        await requests.request_return(session, ALICE, eggs, "again", PHOTOS, ADMINS, at)
    await requests.decide(session, ADMIN, asked.request_id, True, at)
    assert (await ledger.points(session, ALICE)).balance == before - 12
    report = await ledger.commission(session, LEADER, formed, at)
    assert report.earned == 700  # 10 % of Peaches ¥30 and Rice ¥40; Eggs reversed
    states = await order_state(session, ALICE)
    assert states.count("returned") == 1 and states.count("picked_up") == 2
