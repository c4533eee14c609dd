"""Pickup points on the map: reading a location, the search for points near a resident, the
offers that let the bot approve a join request, and recruiting leaders."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.community import communities, nearby, recruiting
from bot.services.community.people import Actor, UserRef
from bot.services.kernel.errors import (
    AlreadyApplied,
    AlreadyLeader,
    ApplicationDecided,
    ApplicationUnknown,
    BadInviteLink,
    BadLocation,
    NotAllowed,
)
from bot.services.pickup.point import BadPointField, Location, distance_km, parse_fields
from models import ApplicationState, Community, LeaderApplication, User
from tests.world import ADMIN, make_community, make_resident, queued, reload

LEADER = Actor(50, is_admin=False)
GATE = Location(31.2304, 121.4737)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("31.2304,121.4737", (31.2304, 121.4737)),
        (" 31.2304 , 121.4737 ", (31.2304, 121.4737)),
        ("31.2304 121.4737", (31.2304, 121.4737)),
        ("３１.２３０４，１２１.４７３７", (31.2304, 121.4737)),  # typed on a Chinese keyboard
        ("-33.8688,151.2093", (-33.8688, 151.2093)),
        ("90,180", (90.0, 180.0)),
        ("90.1,0", None),
        ("0,180.5", None),
        ("31.2304", None),
        ("north of the gate", None),
        ("1,2,3", None),
        ("nan,nan", None),
        ("", None),
    ],
)
def test_a_location_is_read_from_latitude_and_longitude(
    text: str, expected: tuple[float, float] | None
) -> None:
    where = Location.parse(text)
    assert (where and (where.lat, where.lon)) == expected


def test_distances_are_great_circle() -> None:
    beijing = Location(39.9042, 116.4074)
    assert 1060 < distance_km(GATE, beijing) < 1075
    assert distance_km(GATE, GATE) == 0
    # Across the antimeridian the short way round.
    assert distance_km(Location(0, 179.99), Location(0, -179.99)) < 3


async def _points(
    session: AsyncSession, spots: list[tuple[float, float]], now: datetime
) -> list[int]:
    rows = [
        Community(
            chat_id=-5000 - n,
            name=f"Point {n}",
            language="en",
            timezone="Asia/Shanghai",
            active=True,
            point_lat=lat,
            point_lon=lon,
            registered_by=ADMIN.user_id,
            created_at=now,
        )
        for n, (lat, lon) in enumerate(spots)
    ]
    session.add_all(rows)
    await session.commit()
    return [row.id for row in rows]


async def test_the_search_finds_exactly_the_points_within_the_radius_nearest_first(
    session: AsyncSession, now: datetime
) -> None:
    # Points scattered round a city, near a pole and on both sides of the antimeridian.
    rng = random.Random(7)
    centers = [GATE, Location(89.99, 0), Location(-16.5, 179.995), Location(0.001, -0.001)]
    spots = [
        (c.lat + rng.uniform(-0.05, 0.05), ((c.lon + rng.uniform(-0.05, 0.05) + 180) % 360) - 180)
        for c in centers
        for _ in range(60)
    ]
    spots = [(max(-90.0, min(90.0, lat)), lon) for lat, lon in spots]
    ids = await _points(session, spots, now)
    for center in centers:
        for radius in (0.5, 2.0, 5.0):
            found = await nearby.search(session, center, radius)
            expected = sorted(
                (distance_km(center, Location(*spot)), ident)
                for spot, ident in zip(spots, ids, strict=True)
                if distance_km(center, Location(*spot)) <= radius
            )
            assert [n.community.id for n in found.within] == [i for _, i in expected][: nearby.MOST]
            distances = [n.distance_km for n in found.within]
            assert distances == sorted(distances)
            if not expected:
                assert len(found.nearest) == nearby.NEAREST


async def test_none_near_gives_the_three_nearest_and_hides_closed_points(
    session: AsyncSession, now: datetime
) -> None:
    # 5, 10, 20, 40 km north of the gate; the nearest has closed.
    ids = await _points(session, [(GATE.lat + km / 111.2, GATE.lon) for km in (5, 10, 20, 40)], now)
    closed = await session.get(Community, ids[0])
    assert closed is not None
    closed.active = False
    await session.commit()
    found = await nearby.search(session, GATE, 2.0)
    assert found.within == []
    assert [n.community.id for n in found.nearest] == ids[1:]
    assert [round(n.distance_km) for n in found.nearest] == [10, 20, 40]
    nothing = await nearby.search(session, Location(-45, -170), 2.0)
    assert [n.community.id for n in nothing.nearest] == ids[1:]  # found half a world away


async def test_setpoint_sets_clears_and_refuses_a_location_and_an_invite_link(
    session: AsyncSession, now: datetime
) -> None:
    sunny = await make_community(session, now, leader_id=LEADER.user_id)
    changes = parse_fields("location=31.2304，121.4737 link=https://t.me/+AbC123")
    placed = await communities.update_point(session, LEADER, sunny, changes)
    assert placed.location == (31.2304, 121.4737)
    assert placed.invite_link == "https://t.me/+AbC123" and not placed.invite_link_by_bot
    for bad, error in (
        ({"location": "91,0"}, BadLocation),
        ({"location": "the gate", "address": "Elsewhere"}, BadLocation),
        ({"link": "https://example.com/join"}, BadInviteLink),
        ({"location": "1" * 65}, BadPointField),
    ):
        with pytest.raises(error):
            await communities.update_point(session, LEADER, placed, bad)
    unchanged = await reload(session, sunny.id)
    assert unchanged.location == (31.2304, 121.4737) and unchanged.point.address is None
    cleared = await communities.update_point(session, LEADER, sunny, {"location": "-"})
    assert cleared.location is None
    with pytest.raises(NotAllowed):
        await communities.update_point(session, Actor(77, False), sunny, {"location": "1,1"})


async def test_an_offer_lets_the_bot_approve_that_group_for_a_week(
    session: AsyncSession, now: datetime
) -> None:
    sunny = await make_community(session, now, chat_id=-1001)
    other = await make_community(session, now, chat_id=-1002, name="Plum")
    await make_resident(session, 100, now, "Nina")
    await nearby.offered(session, 100, [sunny.id], now)
    assert (await nearby.offered_to(session, 100, -1001, now + timedelta(days=6))) == sunny
    assert await nearby.offered_to(session, 100, -1001, now + timedelta(days=8)) is None
    assert await nearby.offered_to(session, 100, other.chat_id, now) is None
    assert await nearby.offered_to(session, 101, -1001, now) is None
    await nearby.forget_offers(session, now + timedelta(days=6))
    assert await nearby.offered_to(session, 100, -1001, now) == sunny  # still valid: kept
    await nearby.forget_offers(session, now + timedelta(days=8))
    assert await nearby.offered_to(session, 100, -1001, now) is None


async def test_a_resident_location_is_kept_for_near(session: AsyncSession, now: datetime) -> None:
    await make_resident(session, 100, now, "Nina")
    assert await nearby.last_location(session, 100) is None
    await nearby.remember_location(session, 100, GATE, now)
    assert await nearby.last_location(session, 100) == GATE


async def _user(session: AsyncSession, user_id: int) -> UserRef:
    row = await session.get(User, user_id)
    assert row is not None
    return UserRef.of(row)


ANSWERS = {"place": "Plum Garden", "address": "8 Plum Rd", "phone": "138", "about": "A shop"}


async def test_an_approved_applicant_registers_their_group_with_the_point_filled(
    session: AsyncSession, now: datetime
) -> None:
    await make_resident(session, 200, now, "Wei")
    wei = await _user(session, 200)
    admins = frozenset({1, 2})
    application = await recruiting.apply(session, wei, ANSWERS, GATE, admins, now)
    sent = await queued(session, "leader_application")
    assert sorted(m.chat_id for m in sent) == [1, 2]
    with pytest.raises(AlreadyApplied):
        await recruiting.apply(session, wei, ANSWERS, None, admins, now)
    with pytest.raises(NotAllowed):  # not yet approved: /register needs an admin
        await recruiting.register_as_applicant(
            session, Actor(200, False), -3001, "zh", "Asia/Shanghai", now
        )
    with pytest.raises(NotAllowed):
        await recruiting.decide(session, Actor(200, False), application.id, True, now)
    assert [a.id for a in await recruiting.open_applications(session, ADMIN)] == [application.id]
    await recruiting.decide(session, ADMIN, application.id, True, now)
    with pytest.raises(ApplicationDecided):  # the second admin's press
        await recruiting.decide(session, Actor(2, True), application.id, False, now)
    with pytest.raises(ApplicationUnknown):
        await recruiting.decide(session, ADMIN, 999, True, now)
    told = await queued(session, "application_decision")
    assert [m.chat_id for m in told] == [200]
    registered = await recruiting.register_as_applicant(
        session, Actor(200, False), -3001, "zh", "Asia/Shanghai", now
    )
    community = registered.community
    assert (community.name, community.leader_id, community.location) == (
        "Plum Garden",
        200,
        (GATE.lat, GATE.lon),
    )
    assert community.point.address == "8 Plum Rd" and community.point.phone == "138"
    with pytest.raises(AlreadyLeader):
        await recruiting.may_apply(session, 200)
    with pytest.raises(NotAllowed):  # the approval is used up
        await recruiting.register_as_applicant(
            session, Actor(200, False), -3002, "zh", "Asia/Shanghai", now
        )
    states = (await session.scalars(select(LeaderApplication.state))).all()
    assert states == [ApplicationState.USED]


async def test_a_rejected_applicant_may_apply_again_and_bad_answers_are_refused(
    session: AsyncSession, now: datetime
) -> None:
    await make_resident(session, 200, now, "Wei")
    wei = await _user(session, 200)
    first = await recruiting.apply(session, wei, ANSWERS, None, frozenset({1}), now)
    await recruiting.decide(session, ADMIN, first.id, False, now)
    for bad in ({**ANSWERS, "place": "  "}, {**ANSWERS, "about": "x" * 501}, {"place": "P"}):
        with pytest.raises(BadPointField):
            await recruiting.apply(session, wei, bad, None, frozenset({1}), now)
    second = await recruiting.apply(session, wei, ANSWERS, None, frozenset({1}), now)
    assert second.id != first.id and second.location is None
    await make_community(session, now, chat_id=-4001, leader_id=200)
    with pytest.raises(AlreadyLeader):
        await recruiting.may_apply(session, 200)
