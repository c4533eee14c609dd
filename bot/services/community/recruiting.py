"""Recruiting leaders (团长招募): a resident applies to run a new pickup point; an admin decides;
the approved applicant registers their own group, no admin needed for that step.

An application holds the point's name, address, location pin, phone and a line about the
applicant. Every admin receives it with Approve / Reject buttons; the first press decides (as
for after-sale requests). Approved, the applicant is told how to create the group and add the
bot; their `/register` there creates the community with them as leader and the point's record
filled from the application.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.community.communities import MAX_NAME, CommunityRef, Registration
from bot.services.community.people import Actor, UserRef
from bot.services.kernel import outbox
from bot.services.kernel.errors import (
    AlreadyApplied,
    AlreadyLeader,
    ApplicationDecided,
    ApplicationUnknown,
    NotAllowed,
)
from bot.services.kernel.uow import read_only, unit_of_work
from bot.services.notices import ApplicationDecisionNotice, LeaderApplicationNotice
from bot.services.pickup.point import LIMITS, BadPointField, Location
from models import (
    DEFAULT_COMMISSION_RATE,
    ApplicationState,
    Community,
    LeaderApplication,
    User,
)

# What an application asks, and how long each answer may be.
FIELDS = {"place": MAX_NAME, "address": LIMITS["address"], "phone": LIMITS["phone"], "about": 500}


@dataclass(frozen=True)
class Application:
    id: int
    user_id: int
    applicant: str
    place: str
    address: str
    location: Location | None
    phone: str
    about: str
    state: ApplicationState
    created_at: datetime

    @classmethod
    def of(cls, row: LeaderApplication, applicant: str) -> Application:
        location = (
            Location(row.lat, row.lon) if row.lat is not None and row.lon is not None else None
        )
        return cls(
            row.id,
            row.user_id,
            applicant,
            row.place,
            row.address,
            location,
            row.phone,
            row.about,
            row.state,
            row.created_at,
        )


@read_only
async def may_apply(session: AsyncSession, user_id: int) -> None:
    """Refuses someone who leads a point already, or whose application is still open."""
    leads = await session.scalar(
        select(Community.id).where(Community.leader_id == user_id, Community.active.is_(True))
    )
    if leads is not None:
        raise AlreadyLeader()
    open_one = await session.scalar(
        select(LeaderApplication.id).where(
            LeaderApplication.user_id == user_id,
            LeaderApplication.state.in_([ApplicationState.PENDING, ApplicationState.APPROVED]),
        )
    )
    if open_one is not None:
        raise AlreadyApplied(open_one)


def check_answer(key: str, value: str) -> str:
    """One answer of the dialog, trimmed; too long is refused."""
    value = value.strip()
    if not value:
        raise BadPointField(key, FIELDS[key])
    if len(value) > FIELDS[key]:
        raise BadPointField(key, FIELDS[key])
    return value


@unit_of_work
async def apply(
    session: AsyncSession,
    applicant: UserRef,
    answers: dict[str, str],
    where: Location | None,
    admin_ids: frozenset[int],
    now: datetime,
) -> Application:
    """File the application and send it to every admin."""
    await may_apply(session, applicant.id)
    row = LeaderApplication(
        user_id=applicant.id,
        place=check_answer("place", answers.get("place", "")),
        address=check_answer("address", answers.get("address", "")),
        phone=check_answer("phone", answers.get("phone", "")),
        about=check_answer("about", answers.get("about", "")),
        lat=where.lat if where else None,
        lon=where.lon if where else None,
        state=ApplicationState.PENDING,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    application = Application.of(row, applicant.display_name)
    await outbox.enqueue(
        session,
        [
            outbox.Notice(
                LeaderApplicationNotice(
                    application_id=row.id,
                    user_id=applicant.id,
                    applicant=applicant.display_name,
                    place=row.place,
                    address=row.address,
                    phone=row.phone,
                    about=row.about,
                    latitude=row.lat,
                    longitude=row.lon,
                ),
                chat_id=admin,
                user_id=admin,
                dedupe_key=f"application:{row.id}:{admin}",
            )
            for admin in sorted(admin_ids)
        ],
        now,
    )
    return application


@unit_of_work
async def decide(
    session: AsyncSession, actor: Actor, application_id: int, approve: bool, now: datetime
) -> Application:
    """An admin's press: the first decides; the applicant is told privately."""
    actor.require_admin()
    row = await session.get(LeaderApplication, application_id, with_for_update=True)
    if row is None:
        raise ApplicationUnknown(application_id)
    if row.state is not ApplicationState.PENDING:
        raise ApplicationDecided(row.state.value)
    row.state = ApplicationState.APPROVED if approve else ApplicationState.REJECTED
    row.decided_at, row.decided_by = now, actor.user_id
    user = await session.get(User, row.user_id)
    await outbox.enqueue(
        session,
        [
            outbox.Notice(
                ApplicationDecisionNotice(place=row.place, approved=approve),
                chat_id=row.user_id,
                user_id=row.user_id,
                dedupe_key=f"application-decision:{row.id}",
            )
        ],
        now,
    )
    return Application.of(row, UserRef.of(user).display_name if user else str(row.user_id))


@read_only
async def open_applications(session: AsyncSession, actor: Actor) -> list[Application]:
    """/applications: those waiting for an admin, oldest first."""
    actor.require_admin()
    rows = (
        await session.execute(
            select(LeaderApplication, User)
            .join(User, User.id == LeaderApplication.user_id)
            .where(LeaderApplication.state == ApplicationState.PENDING)
            .order_by(LeaderApplication.created_at, LeaderApplication.id)
            .limit(50)
        )
    ).all()
    return [Application.of(row, UserRef.of(user).display_name) for row, user in rows]


@unit_of_work
async def register_as_applicant(
    session: AsyncSession,
    actor: Actor,
    chat_id: int,
    language: str,
    timezone: str,
    now: datetime,
    commission_rate: int = DEFAULT_COMMISSION_RATE,
) -> Registration:
    """/register by an approved applicant: the group becomes their community, its pickup point
    filled from the application. Anyone else needs an admin."""
    row = await session.scalar(
        select(LeaderApplication)
        .where(
            LeaderApplication.user_id == actor.user_id,
            LeaderApplication.state == ApplicationState.APPROVED,
        )
        .order_by(LeaderApplication.id.desc())
        .limit(1)
        .with_for_update()
    )
    if row is None:
        raise NotAllowed("admin")
    existing = await session.scalar(select(Community).where(Community.chat_id == chat_id))
    if existing is not None:
        raise NotAllowed("admin")  # an existing community is the platform's to hand over
    user = await session.get(User, actor.user_id)
    community = Community(
        chat_id=chat_id,
        name=row.place[:MAX_NAME],
        language=language,
        timezone=timezone,
        leader_id=actor.user_id,
        active=True,
        registered_by=actor.user_id,
        created_at=now,
        commission_rate=commission_rate,
        point_address=row.address,
        point_phone=row.phone,
        point_contact=user.first_name[: LIMITS["contact"]] if user else None,
        point_lat=row.lat,
        point_lon=row.lon,
    )
    session.add(community)
    await session.flush()
    await session.execute(
        update(LeaderApplication)
        .where(LeaderApplication.id == row.id)
        .values(state=ApplicationState.USED, community_id=community.id)
    )
    return Registration(CommunityRef.of(community), created=True)
