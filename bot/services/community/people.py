"""Users: their names, language, whether they opened a private chat with the bot, their role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.kernel import outbox
from bot.services.kernel.errors import NotAllowed
from bot.services.kernel.sql import upsert
from bot.services.kernel.uow import housekeeping, unit_of_work
from models import User


@dataclass(frozen=True)
class Profile:
    """What Telegram tells us about a user on every update."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None


@dataclass(frozen=True)
class UserRef:
    id: int
    first_name: str
    last_name: str | None
    username: str | None
    language: str | None  # chosen with /lang
    tg_language: str | None
    started: bool  # has a private chat with the bot
    unreachable: bool  # Telegram refused a private message (403) since their last /start

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}" if self.last_name else self.first_name

    @classmethod
    def of(cls, row: User) -> UserRef:
        return cls(
            id=row.id,
            first_name=row.first_name,
            last_name=row.last_name,
            username=row.username,
            language=row.language,
            tg_language=row.tg_language,
            started=row.started_at is not None,
            unreachable=row.unreachable_at is not None,
        )


@dataclass(frozen=True)
class Actor:
    """Who is acting. Admins come from ADMIN_IDS; leadership is per community."""

    user_id: int
    is_admin: bool

    def require_admin(self) -> None:
        if not self.is_admin:
            raise NotAllowed("admin")


def _profile_values(profile: Profile) -> dict[str, object]:
    return {
        "first_name": profile.first_name[:128] or str(profile.id),
        "last_name": (profile.last_name or None) and profile.last_name[:128],
        "username": profile.username,
        "tg_language": profile.language_code,
    }


def profile_changed(user: UserRef, profile: Profile) -> bool:
    values = _profile_values(profile)
    return (user.first_name, user.last_name, user.username, user.tg_language) != (
        values["first_name"],
        values["last_name"],
        values["username"],
        values["tg_language"],
    )


@housekeeping
async def save_profile_now(session: AsyncSession, profile: Profile, now: datetime) -> UserRef:
    return await save_profile(session, profile, now)


async def save_profile(session: AsyncSession, profile: Profile, now: datetime) -> UserRef:
    """Insert the user or refresh their names (in the caller's transaction); only writes when
    something changed."""
    row = await session.get(User, profile.id)
    values = _profile_values(profile)
    if row is None:
        statement = (
            upsert(session, User)
            .values(id=profile.id, created_at=now, **values)
            .on_conflict_do_update(index_elements=[User.id], set_=values)
        )
        await session.execute(statement)
        row = await session.get(User, profile.id, populate_existing=True)
        assert row is not None
    elif any(getattr(row, key) != value for key, value in values.items()):
        for key, value in values.items():
            setattr(row, key, value)
    return UserRef.of(row)


@unit_of_work
async def set_language(session: AsyncSession, user_id: int, language: str) -> None:
    await session.execute(update(User).where(User.id == user_id).values(language=language))


@housekeeping
async def start_private_chat(session: AsyncSession, profile: Profile, now: datetime) -> int:
    """The user opened the private chat: record it and release what waited for it.

    Returns how many held messages are now on their way.
    """
    await save_profile(session, profile, now)
    await session.execute(
        update(User).where(User.id == profile.id).values(started_at=now, unreachable_at=None)
    )
    return await outbox.release_for_user(session, profile.id, now)
