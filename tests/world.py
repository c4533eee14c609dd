"""Building blocks for service tests: communities, residents and drops made through the services."""

from __future__ import annotations

from datetime import datetime, time
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.community import communities, context
from bot.services.community.communities import CommunityRef
from bot.services.community.people import Actor, Profile
from bot.services.ordering import drops
from bot.services.ordering.drop_format import parse_drop
from models import Community, GroupBuy, OutboxMessage, PickupCode

ADMIN = Actor(user_id=1, is_admin=True)
SHANGHAI = ZoneInfo("Asia/Shanghai")


async def make_community(
    session: AsyncSession,
    now: datetime,
    chat_id: int = -1001,
    name: str = "Sunny Garden",
    leader_id: int | None = None,
    timezone: str = "Asia/Shanghai",
    language: str = "en",
) -> CommunityRef:
    registration = await communities.register(
        session, ADMIN, chat_id, name, language, timezone, now
    )
    if leader_id is not None:
        await communities.set_leader(
            session,
            ADMIN,
            registration.community.id,
            Profile(leader_id, f"Leader {leader_id}"),
            now,
        )
    return await reload(session, registration.community.id)


async def reload(session: AsyncSession, community_id: int) -> CommunityRef:
    row = await session.scalar(
        select(Community)
        .where(Community.id == community_id)
        .execution_options(populate_existing=True)
    )
    assert row is not None
    await session.commit()
    return CommunityRef.of(row)


async def make_resident(
    session: AsyncSession, user_id: int, now: datetime, name: str | None = None
) -> None:
    await context.load_context(session, Profile(user_id, name or f"Resident {user_id}"), None, now)


async def publish(
    session: AsyncSession,
    text: str,
    now: datetime,
    at: time | None = None,
    pay_within: int | None = None,
) -> drops.Publication:
    """Draft and publish; `pay_within` (minutes): on a platform that takes payment in advance."""
    spec = parse_drop(text)
    preview = await drops.create_drop(
        session, ADMIN, spec, text, SHANGHAI, now, pay_within=pay_within
    )
    return await drops.publish(session, ADMIN, preview.drop_id, at, now)


async def group_buy(session: AsyncSession, community_id: int, number: int) -> SimpleNamespace:
    """A snapshot of the latest group-buy with that number (a plain object: it never expires)."""
    row = await session.scalar(
        select(GroupBuy)
        .where(GroupBuy.community_id == community_id, GroupBuy.number == number)
        .order_by(GroupBuy.id.desc())
        .execution_options(populate_existing=True)
        .limit(1)
    )
    assert row is not None
    snapshot = SimpleNamespace(**{c.key: getattr(row, c.key) for c in GroupBuy.__table__.columns})
    await session.commit()
    return snapshot


async def code_of(session: AsyncSession, user_id: int) -> str:
    """The resident's pickup code (the tests' residents have one at a time)."""
    code = await session.scalar(select(PickupCode.code).where(PickupCode.user_id == user_id))
    await session.commit()
    assert code is not None
    return code


async def queued(session: AsyncSession, kind: str) -> list[OutboxMessage]:
    """The outbox rows of one kind, oldest first."""
    rows = (
        await session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
        )
    ).all()
    await session.commit()
    return list(rows)
