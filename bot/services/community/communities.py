"""Communities: one Telegram group each, with a leader and a pickup point."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.community.people import (
    Actor,
    Profile,
    UserRef,
    save_profile,
)
from bot.services.kernel.clock import local_date
from bot.services.kernel.errors import (
    AmbiguousCommunity,
    NotACommunity,
    NotAllowed,
)
from bot.services.kernel.uow import housekeeping, read_only, unit_of_work
from bot.services.pickup.point import Location, PickupPoint, checked_value
from models import (
    DEFAULT_COMMISSION_RATE,
    Community,
    GroupBuy,
    GroupBuyState,
    Order,
    OrderState,
    OutboxMessage,
    OutboxState,
    User,
)

MAX_NAME = 128


@dataclass(frozen=True)
class CommunityRef:
    id: int
    chat_id: int
    name: str
    language: str
    timezone: str
    leader_id: int | None
    point: PickupPoint
    active: bool
    first_nudge: int = 3600  # seconds before a deadline; 0: off
    second_nudge: int = 900
    reminder_time: str = "19:00"  # local time of the daily pickup reminder; "": off
    commission_rate: int = DEFAULT_COMMISSION_RATE  # the leader's commission, basis points
    can_delete: bool | None = None  # may the bot delete members' messages there (None: unknown)
    location: tuple[float, float] | None = None  # the pickup point's pin: (latitude, longitude)
    invite_link: str | None = None  # how a neighbour joins the group
    invite_link_by_bot: bool = False  # made by the bot: it approves who comes by it

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def led_by(self, actor: Actor) -> bool:
        return actor.is_admin or self.leader_id == actor.user_id

    def require_leader(self, actor: Actor) -> None:
        if not self.led_by(actor):
            raise NotAllowed("leader")

    @classmethod
    def of(cls, row: Community) -> CommunityRef:
        return cls(
            id=row.id,
            chat_id=row.chat_id,
            name=row.name,
            language=row.language,
            timezone=row.timezone,
            leader_id=row.leader_id,
            point=point_of(row),
            active=row.active,
            first_nudge=row.first_nudge,
            second_nudge=row.second_nudge,
            reminder_time=row.reminder_time,
            commission_rate=row.commission_rate,
            can_delete=row.bot_can_delete,
            location=(row.point_lat, row.point_lon)
            if row.point_lat is not None and row.point_lon is not None
            else None,
            invite_link=row.invite_link,
            invite_link_by_bot=bool(row.invite_link_by_bot),
        )


def point_of(row: Community) -> PickupPoint:
    return PickupPoint(
        contact=row.point_contact,
        phone=row.point_phone,
        province=row.point_province,
        city=row.point_city,
        district=row.point_district,
        address=row.point_address,
        hours=row.point_hours,
        route=row.point_route,
        region=row.point_region,
        notes=row.pickup_point,
    )


@dataclass(frozen=True)
class Registration:
    community: CommunityRef
    created: bool


@dataclass(frozen=True)
class CommunityOverview:
    community: CommunityRef
    leader_name: str | None
    open_items: int
    orders_today: int


@unit_of_work
async def register(
    session: AsyncSession,
    actor: Actor,
    chat_id: int,
    name: str,
    language: str,
    timezone: str,
    now: datetime,
    commission_rate: int = DEFAULT_COMMISSION_RATE,
) -> Registration:
    """Make the group a community; registering again renames and reactivates it."""
    actor.require_admin()
    name = name.strip()[:MAX_NAME] or str(chat_id)
    row = await session.scalar(select(Community).where(Community.chat_id == chat_id))
    created = row is None
    if row is None:
        row = Community(
            chat_id=chat_id,
            name=name,
            language=language,
            timezone=timezone,
            active=True,
            registered_by=actor.user_id,
            created_at=now,
            commission_rate=commission_rate,
        )
        session.add(row)
    else:
        row.name = name
        row.active = True
    await session.flush()
    return Registration(community=CommunityRef.of(row), created=created)


@unit_of_work
async def set_leader(
    session: AsyncSession, actor: Actor, community_id: int, leader: Profile, now: datetime
) -> UserRef:
    actor.require_admin()
    user = await save_profile(session, leader, now)
    await session.execute(
        update(Community).where(Community.id == community_id).values(leader_id=leader.id)
    )
    return user


_POINT_COLUMNS = {
    "contact": "point_contact",
    "phone": "point_phone",
    "province": "point_province",
    "city": "point_city",
    "district": "point_district",
    "address": "point_address",
    "hours": "point_hours",
    "route": "point_route",
    "region": "point_region",
    "notes": "pickup_point",
}


@unit_of_work
async def update_point(
    session: AsyncSession, actor: Actor, community: CommunityRef, changes: dict[str, str]
) -> CommunityRef:
    """Set fields of the pickup point; an empty value or "-" clears one. Every field's length
    limit holds here, whichever way the value came (key=value, free text, the dialog)."""
    community.require_leader(actor)
    values: dict[str, object] = {}
    for key, given in changes.items():
        value = checked_value(key, given)
        if key == "location":
            where = value if isinstance(value, Location) else None
            values["point_lat"] = where.lat if where else None
            values["point_lon"] = where.lon if where else None
        elif key == "link":
            values["invite_link"], values["invite_link_by_bot"] = value, False
        else:
            values[_POINT_COLUMNS[key]] = value
    row = await session.get(Community, community.id, with_for_update=True)
    assert row is not None
    for column, new in values.items():
        setattr(row, column, new)
    await session.flush()
    return CommunityRef.of(row)


@unit_of_work
async def set_language(
    session: AsyncSession, actor: Actor, community: CommunityRef, language: str
) -> None:
    community.require_leader(actor)
    await session.execute(
        update(Community).where(Community.id == community.id).values(language=language)
    )


@dataclass(frozen=True)
class SettingsChange:
    """What /settings changes; None: unchanged."""

    language: str | None = None
    timezone: str | None = None
    first_nudge: int | None = None
    second_nudge: int | None = None
    reminder_time: str | None = None
    commission_rate: int | None = None  # basis points; admins only


@unit_of_work
async def update_settings(
    session: AsyncSession, actor: Actor, community: CommunityRef, change: SettingsChange
) -> CommunityRef:
    community.require_leader(actor)
    if change.commission_rate is not None:
        actor.require_admin()  # a leader does not set their own pay
    row = await session.get(Community, community.id, with_for_update=True)
    assert row is not None
    for key in (
        "language",
        "timezone",
        "first_nudge",
        "second_nudge",
        "reminder_time",
        "commission_rate",
    ):
        value = getattr(change, key)
        if value is not None:
            setattr(row, key, value)
    if change.reminder_time is not None or change.timezone is not None:
        # A new reminder moment gets its own look today: the day's look may have been spent on
        # the old moment (with nothing to remind of). A code is reminded at most once a day
        # whatever happens here (its idempotency key).
        row.reminded_on = None
    await session.flush()
    return CommunityRef.of(row)


@housekeeping
async def note_bot_rights(session: AsyncSession, chat_id: int, can_delete: bool) -> None:
    """What Telegram said the bot may do in the group (its membership changed, or a delete was
    refused): a message it may not delete is not tried again."""
    await session.execute(
        update(Community)
        .where(Community.chat_id == chat_id)
        .values(bot_can_delete=can_delete)
        .execution_options(synchronize_session=False)
    )


@unit_of_work
async def bot_left(session: AsyncSession, chat_id: int) -> CommunityRef | None:
    """The bot was removed from the group: it is no longer posted to."""
    row = await session.scalar(select(Community).where(Community.chat_id == chat_id))
    if row is None:
        return None
    row.active = False
    return CommunityRef.of(row)


@unit_of_work
async def chat_migrated(session: AsyncSession, old_chat_id: int, new_chat_id: int) -> None:
    """A group became a supergroup and got a new id: the community and its queued messages
    follow it."""
    await session.execute(
        update(Community).where(Community.chat_id == old_chat_id).values(chat_id=new_chat_id)
    )
    await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.chat_id == old_chat_id,
            OutboxMessage.state.in_([OutboxState.PENDING, OutboxState.SENDING]),
        )
        .values(chat_id=new_chat_id)
        .execution_options(synchronize_session=False)
    )


def pick_led_community(
    community: CommunityRef | None, actor: Actor, leads: tuple[CommunityRef, ...]
) -> CommunityRef:
    """The community a leader command is about: the group it was sent in, or the one community
    the user leads when sent privately."""
    if community is not None:
        community.require_leader(actor)
        return community
    if not leads:
        raise NotAllowed("leader")
    if len(leads) > 1:
        raise AmbiguousCommunity(names=[c.name for c in leads])
    return leads[0]


def require_community(community: CommunityRef | None) -> CommunityRef:
    if community is None:
        raise NotACommunity()
    return community


@read_only
async def overview(session: AsyncSession, actor: Actor, now: datetime) -> list[CommunityOverview]:
    actor.require_admin()
    rows = (
        await session.execute(
            select(Community, User)
            .outerjoin(User, User.id == Community.leader_id)
            .where(Community.active.is_(True))
            .order_by(Community.name, Community.id)
        )
    ).all()
    open_counts = dict(
        (
            await session.execute(
                select(GroupBuy.community_id, func.count())
                .where(GroupBuy.state == GroupBuyState.OPEN)
                .group_by(GroupBuy.community_id)
            )
        ).all()
    )
    result = []
    for community, leader in rows:
        ref = CommunityRef.of(community)
        day = local_date(now, ref.tz)
        start = datetime.combine(day, datetime.min.time(), tzinfo=ref.tz)
        orders_today = await session.scalar(
            select(func.count())
            .select_from(Order)
            .join(GroupBuy, GroupBuy.id == Order.group_buy_id)
            .where(
                GroupBuy.community_id == community.id,
                Order.joined_at >= start,
                Order.joined_at < start + timedelta(days=1),
                Order.state != OrderState.CANCELLED,
            )
        )
        leader_name = None
        if leader is not None:
            leader_name = UserRef.of(leader).display_name
        result.append(
            CommunityOverview(
                community=ref,
                leader_name=leader_name,
                open_items=int(open_counts.get(community.id, 0)),
                orders_today=int(orders_today or 0),
            )
        )
    return result
