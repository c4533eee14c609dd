"""Pickup codes: their one shape, how a new one is drawn, and the code of each buyer.

A code is 7 digits with no leading zero, one per resident, community and pickup day, shared by
all their goods of that day. Codes are random (not sequential), so a code seen does not tell the
next one; the unique index on `code` catches the rare collision, which is drawn again.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.kernel.sql import upsert
from bot.services.kernel.uow import read_only
from models import CodeState, PickupCode

DIGITS = 7
_LOW, _HIGH = 10 ** (DIGITS - 1), 10**DIGITS - 1
_SHAPE = re.compile(rf"[1-9][0-9]{{{DIGITS - 1}}}")
EXAMPLE = "".join(str(n % 10) for n in range(1, DIGITS + 1))  # 1234567, for help texts


def new_code() -> str:
    return str(_LOW + secrets.randbelow(_HIGH - _LOW + 1))


_IN_TEXT = re.compile(rf"(?<![0-9])[1-9][0-9]{{{DIGITS - 1}}}(?![0-9])")


def code_shaped(text: str) -> set[str]:
    """The numbers in a message that have a code's shape (full-width digits read as digits)."""
    return set(_IN_TEXT.findall(unicodedata.normalize("NFKC", text)))


@read_only
async def live_codes(session: AsyncSession, community_id: int, candidates: set[str]) -> set[str]:
    """Which of `candidates` are codes of the community that can still be used."""
    if not candidates:
        return set()
    found = await session.scalars(
        select(PickupCode.code).where(
            PickupCode.community_id == community_id,
            PickupCode.code.in_(candidates),
            PickupCode.state == CodeState.ACTIVE,
        )
    )
    return set(found.all())


def as_code(text: str) -> str | None:
    """`text` as a code if it has a code's shape: full-width digits (as a Chinese keyboard types
    them) read as digits, spaces around ignored; None otherwise."""
    normal = unicodedata.normalize("NFKC", text).strip()
    return normal if _SHAPE.fullmatch(normal) else None


async def ensure_codes(
    session: AsyncSession, community_id: int, buyers: set[tuple[int, date]], now: datetime
) -> dict[tuple[int, date], tuple[int, str]]:
    """The (id, code) of each buyer's code, creating missing ones and reopening used ones."""
    found: dict[tuple[int, date], tuple[int, str]] = {}
    missing = set(buyers)
    for _ in range(50):
        if not missing:
            break
        existing = (
            await session.scalars(
                select(PickupCode).where(
                    PickupCode.community_id == community_id,
                    PickupCode.user_id.in_({user for user, _ in missing}),
                    PickupCode.pickup_date.in_({day for _, day in missing}),
                )
            )
        ).all()
        for code in existing:
            key = (code.user_id, code.pickup_date)
            if key in missing:
                if code.state is CodeState.USED:  # more goods for the same day: usable again
                    code.state, code.used_at = CodeState.ACTIVE, None
                found[key] = (code.id, code.code)
                missing.discard(key)
        if not missing:
            break
        # A random code may collide with another's: those rows are skipped and tried again.
        inserted = (
            await session.execute(
                upsert(session, PickupCode)
                .values(
                    [
                        {
                            "code": new_code(),
                            "user_id": user,
                            "community_id": community_id,
                            "pickup_date": day,
                            "state": CodeState.ACTIVE,
                            "created_at": now,
                        }
                        for user, day in sorted(missing)
                    ]
                )
                .on_conflict_do_nothing()
                .returning(
                    PickupCode.id, PickupCode.user_id, PickupCode.pickup_date, PickupCode.code
                )
            )
        ).all()
        for code_id, user, day, code in inserted:
            found[(user, day)] = (code_id, code)
            missing.discard((user, day))
    if missing:
        raise RuntimeError("could not allocate pickup codes")
    await session.flush()
    return found
