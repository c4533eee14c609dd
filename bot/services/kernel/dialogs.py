"""Where each open dialog stands, in the database (the default, one instance; with Redis, aiogram's
own Redis storage keeps them instead).

A dialog's step and answers are written as each answer is taken, in a small transaction of their
own: a restart, a crash or a deploy in the middle of `/setpoint`, `/return` or `/apply` loses
nothing, and the next answer goes on from the same step. A dialog left alone for a week is
forgotten by the daily maintenance.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.kernel.sql import upsert
from bot.services.kernel.uow import housekeeping, read_only
from models import Dialog


@read_only
async def open_dialogs(session: AsyncSession) -> list[tuple[str, str | None, dict[str, Any]]]:
    """Every dialog kept: its key, step and answers."""
    rows = (await session.execute(select(Dialog.key, Dialog.state, Dialog.data))).all()
    return [(key, state, dict(data or {})) for key, state, data in rows]


@housekeeping
async def save_state(session: AsyncSession, key: str, state: str | None, now: datetime) -> None:
    await _save(session, key, {"state": state}, now)


@housekeeping
async def save_data(
    session: AsyncSession, key: str, data: Mapping[str, Any], now: datetime
) -> None:
    await _save(session, key, {"data": dict(data) or None}, now)


async def _save(session: AsyncSession, key: str, values: dict[str, Any], now: datetime) -> None:
    insert = upsert(session, Dialog).values(key=key, updated_at=now, **values)
    await session.execute(
        insert.on_conflict_do_update(
            index_elements=[Dialog.key], set_={**values, "updated_at": now}
        )
    )
    # A dialog with no step and no answers is over: nothing of it needs keeping.
    await session.execute(
        delete(Dialog).where(Dialog.key == key, Dialog.state.is_(None), Dialog.data.is_(None))
    )


@housekeeping
async def forget(session: AsyncSession, before: datetime) -> None:
    """Dialogs nobody answered since `before` are abandoned."""
    await session.execute(delete(Dialog).where(Dialog.updated_at < before))
