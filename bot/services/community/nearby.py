"""Where pickup points are, and which are near a resident (附近的自提点).

A point's location is a pin the leader sends (or `/setpoint location=lat,lon`). A resident who
shares where they are hears of the points within `NEARBY_RADIUS_KM`, nearest first; when none is
that near, of the three nearest anywhere. The search is SQL on an index of latitude and
longitude — a box around the resident first, then the exact great-circle distance of what is in
the box — so it needs no database extension and stays fast with many points, on SQLite and
PostgreSQL alike.

A resident shown a community's invite link is remembered (`Referral`), so that when they ask to
join that group the bot, which made the link, approves them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.community.communities import CommunityRef
from bot.services.community.people import UserRef
from bot.services.kernel import outbox
from bot.services.kernel.uow import housekeeping, read_only, unit_of_work
from bot.services.notices import WelcomeNotice
from bot.services.pickup.point import EARTH_RADIUS_KM, Location, distance_km
from models import Community, Referral, User

NEAREST = 3  # shown when none is within the radius
HALF_WORLD = math.pi * EARTH_RADIUS_KM  # no two places are farther apart
MOST = 10  # shown at most
OFFER_VALID = timedelta(days=7)  # how long a /near offer lets the bot approve a join request
WELCOME_GATHER = timedelta(seconds=10)  # neighbours let in meanwhile are welcomed together


def _box(center: Location, radius_km: float) -> tuple[float, float, float, float] | None:
    """(south, north, west, east) around `center` holding every point within `radius_km`; None
    when the box would cross a pole or the antimeridian (then the whole band is searched)."""
    dlat = math.degrees(radius_km / EARTH_RADIUS_KM)
    south, north = center.lat - dlat, center.lat + dlat
    if south <= -90 or north >= 90:
        return None
    dlon = math.degrees(radius_km / (EARTH_RADIUS_KM * math.cos(math.radians(center.lat))))
    west, east = center.lon - dlon, center.lon + dlon
    if west < -180 or east > 180:
        return None
    return south, north, west, east


@dataclass(frozen=True)
class Nearby:
    community: CommunityRef
    distance_km: float
    leader: str | None  # the leader's first name


@dataclass(frozen=True)
class Search:
    within: list[Nearby]  # within the radius, nearest first
    nearest: list[Nearby]  # when none is within: the nearest anywhere


@read_only
async def search(session: AsyncSession, center: Location, radius_km: float) -> Search:
    """The active points within `radius_km` of `center`, nearest first (at most `MOST`); when
    there are none, the `NEAREST` nearest, found in boxes growing from the radius."""
    within = await _nearest_in(session, center, radius_km, MOST)
    if within:
        return Search(within, [])
    reach = radius_km
    while True:
        reach *= 4
        if reach >= HALF_WORLD or _box(center, reach) is None:
            reach = HALF_WORLD  # the box would wrap round: every point, by distance
        found = await _nearest_in(session, center, reach, NEAREST)
        if len(found) >= NEAREST or reach == HALF_WORLD:
            return Search([], found)


async def _nearest_in(
    session: AsyncSession, center: Location, radius_km: float, most: int
) -> list[Nearby]:
    """The `most` nearest points within `radius_km`, nearest first.

    The database orders the points in the box by a flat-map distance (longitude shrunk by the
    cosine of the resident's latitude; SQLite has no trigonometry) and hands over a few more than
    asked; those are measured exactly here. Near, the flat map is exact to a metre; far, where it
    errs by a few percent, the spare candidates cover the difference."""
    dlat = Community.point_lat - center.lat
    apart = func.abs(Community.point_lon - center.lon)
    dlon = case((apart > 180, 360 - apart), else_=apart)  # the short way round the antimeridian
    shrink = math.cos(math.radians(center.lat))
    flat = dlat * dlat + dlon * dlon * (shrink * shrink)
    query = select(Community.id, Community.point_lat, Community.point_lon).where(
        Community.active.is_(True),
        Community.point_lat.is_not(None),
        Community.point_lon.is_not(None),
    )
    box = _box(center, radius_km)
    if box is not None:
        south, north, west, east = box
        query = query.where(
            and_(Community.point_lat.between(south, north), Community.point_lon.between(west, east))
        )
    candidates = (await session.execute(query.order_by(flat).limit(most * 3))).all()
    measured = sorted(
        (distance_km(center, Location(lat, lon)), ident)
        for ident, lat, lon in candidates
        if lat is not None and lon is not None  # as the query asks
    )
    chosen = [(away, ident) for away, ident in measured if away <= radius_km][:most]
    if not chosen:
        return []
    rows = {
        row.id: (row, leader)
        for row, leader in (
            await session.execute(
                select(Community, User.first_name)
                .outerjoin(User, User.id == Community.leader_id)
                .where(Community.id.in_([ident for _, ident in chosen]))
            )
        ).all()
    }
    return [Nearby(CommunityRef.of(rows[ident][0]), away, rows[ident][1]) for away, ident in chosen]


@unit_of_work
async def remember_location(
    session: AsyncSession, user_id: int, where: Location, now: datetime
) -> None:
    """The resident is here (a pin they sent): /near searches from it later."""
    await session.execute(
        update(User)
        .where(User.id == user_id)
        .values(last_lat=where.lat, last_lon=where.lon, located_at=now)
    )


@read_only
async def last_location(session: AsyncSession, user_id: int) -> Location | None:
    row = (
        await session.execute(select(User.last_lat, User.last_lon).where(User.id == user_id))
    ).first()
    if row is None or row.last_lat is None or row.last_lon is None:
        return None
    return Location(row.last_lat, row.last_lon)


@housekeeping
async def offered(
    session: AsyncSession, user_id: int, community_ids: list[int], now: datetime
) -> None:
    """The resident was shown these communities' invite links."""
    session.add_all(
        Referral(user_id=user_id, community_id=community_id, offered_at=now)
        for community_id in community_ids
    )


@housekeeping
async def forget_offers(session: AsyncSession, now: datetime) -> None:
    """Offers too old to let anyone in any more."""
    await session.execute(delete(Referral).where(Referral.offered_at < now - OFFER_VALID))


@read_only
async def offered_to(
    session: AsyncSession, user_id: int, chat_id: int, now: datetime
) -> CommunityRef | None:
    """The community of this group, if /near offered it to the user lately."""
    row = await session.scalar(
        select(Community)
        .join(Referral, Referral.community_id == Community.id)
        .where(
            Community.chat_id == chat_id,
            Referral.user_id == user_id,
            Referral.offered_at >= now - OFFER_VALID,
        )
        .limit(1)
    )
    return CommunityRef.of(row) if row is not None else None


@housekeeping
async def keep_invite_link(session: AsyncSession, community_id: int, link: str) -> None:
    """An invite link the bot made for the group (with join requests it approves)."""
    await session.execute(
        update(Community)
        .where(Community.id == community_id)
        .values(invite_link=link, invite_link_by_bot=True)
    )


@housekeeping
async def welcome(
    session: AsyncSession, community: CommunityRef, member: UserRef, now: datetime
) -> None:
    """Tell the group a neighbour who found it nearby was let in (several together)."""
    await outbox.enqueue(
        session,
        [
            outbox.Notice(
                WelcomeNotice(user_id=member.id, name=member.first_name),
                chat_id=community.chat_id,
                community_id=community.id,
                dedupe_key=f"welcome:{community.id}:{member.id}:{now.date().isoformat()}",
                gather=WELCOME_GATHER,
            )
        ],
        now,
    )
