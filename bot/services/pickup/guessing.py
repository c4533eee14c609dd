"""Guessing pickup codes: a leader who types wrong codes fast is paused, and the admins are told.

A code is worth goods, and 7 digits are few enough to try. Every well-formed code a leader types
that is not one they may use (no such code, or another community's: the two are answered alike,
so nobody learns which codes exist elsewhere) is counted. `LIMIT` of them within `WINDOW` pause
that person's /pickup and /undo for `PAUSE`, and every admin hears of it once per pause.

Wrong codes are counted in their own transaction: the refused handover itself rolls back.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.community.people import Actor, UserRef
from bot.services.kernel import outbox
from bot.services.kernel.errors import CodesPaused, CodeUnknown
from bot.services.kernel.uow import housekeeping, read_only
from bot.services.notices import CodeGuessingNotice
from models import Community, User, WrongCode

LIMIT = 10
WINDOW = timedelta(minutes=1)
PAUSE = timedelta(minutes=5)


@asynccontextmanager
async def guarded(
    session: AsyncSession,
    actor: Actor,
    community_id: int | None,
    admin_ids: Iterable[int],
    now: datetime,
) -> AsyncIterator[None]:
    """Around a use of a typed code: refuse while paused; count it if the code is wrong."""
    await _refuse_if_paused(session, actor.user_id, now)
    try:
        yield
    except CodeUnknown:
        await _count_wrong(session, actor.user_id, community_id, frozenset(admin_ids), now)
        raise


@read_only
async def _refuse_if_paused(session: AsyncSession, user_id: int, now: datetime) -> None:
    until = await session.scalar(select(User.codes_paused_until).where(User.id == user_id))
    if until is not None and until > now:
        raise CodesPaused(math.ceil((until - now).total_seconds() / 60))


@housekeeping
async def _count_wrong(
    session: AsyncSession,
    user_id: int,
    community_id: int | None,
    admin_ids: frozenset[int],
    now: datetime,
) -> None:
    session.add(WrongCode(user_id=user_id, community_id=community_id, at=now))
    await session.flush()
    recent = await session.scalar(
        select(func.count())
        .select_from(WrongCode)
        .where(WrongCode.user_id == user_id, WrongCode.at > now - WINDOW)
    )
    if int(recent or 0) < LIMIT:
        return
    paused = await session.execute(
        update(User)
        .where(
            User.id == user_id,
            or_(User.codes_paused_until.is_(None), User.codes_paused_until <= now),
        )
        .values(codes_paused_until=now + PAUSE)
        .execution_options(synchronize_session=False)
    )
    if not getattr(paused, "rowcount", 0):
        return  # already paused: the admins were told
    user = await session.get(User, user_id)
    community = await session.get(Community, community_id) if community_id else None
    notice = CodeGuessingNotice(
        user_id=user_id,
        name=UserRef.of(user).display_name if user else str(user_id),
        community=community.name if community else None,
        wrong=int(recent or 0),
        until=now + PAUSE,
        timezone=community.timezone if community else "UTC",
    )
    await outbox.enqueue(
        session,
        [
            outbox.Notice(
                notice,
                chat_id=admin,
                user_id=admin,
                dedupe_key=f"code-guessing:{user_id}:{int(now.timestamp())}:{admin}",
            )
            for admin in sorted(admin_ids)
        ],
        now,
    )


@housekeeping
async def forget(session: AsyncSession, before: datetime) -> None:
    """Wrong codes older than `before` count for nothing any more."""
    await session.execute(delete(WrongCode).where(WrongCode.at < before))
