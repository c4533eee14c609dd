"""The inbox: Telegram's updates, stored before they are acknowledged.

Polling stores each batch (one INSERT) before asking for the next, which is what acknowledges it
to Telegram; a crash can therefore not lose an update: at start, whatever was stored but not
finished is handled then. The same update_id arriving twice is stored once.

Exactly once: the first unit of work that changes something for an update (`uow.unit_of_work`)
marks its inbox row handled in the same transaction. If the row was already handled, the update
is a repeat and the unit refuses with `AlreadyHandled` before changing anything.

Handled is not finished: after the effect commits, the handler still answers (a Join button's
toast). Every update is marked finished in batches once its handler has run, and only finished
updates are never handled again. So an instance killed between the commit and the answer leaves
an update that is handled again: the effect is refused as done, and the handler answers with what
stands (handlers decide how; a Join button says the resident's place again).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, delete, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.kernel.sql import upsert
from bot.services.kernel.uow import first_in_line, housekeeping
from models import InboxUpdate, UTCDateTime

_CHUNK = 200  # ids per UPDATE; stays under SQLite's bound-parameter limit


@first_in_line  # a burst's joins all wait for their updates to be stored: storing goes first
async def record(
    session: AsyncSession, updates: Sequence[tuple[int, dict[str, Any]]], now: datetime
) -> set[int]:
    """Store updates; returns the ids that were new (the others arrived before)."""
    rows = [
        {"update_id": update_id, "payload": payload, "received_at": now}
        for update_id, payload in updates
    ]
    # One compiled statement for any batch (executed as many values, in chunks), not one
    # statement with a row count of its own to compile each time: this runs for every batch.
    inserted = await session.scalars(_store(session.get_bind().dialect.name), rows)
    return set(inserted.all())


@functools.cache
def _store(dialect: str) -> Any:
    table = cast(Table, InboxUpdate.__table__)
    return (
        upsert(dialect, table)
        .on_conflict_do_nothing(index_elements=[table.c.update_id])
        .returning(table.c.update_id)
    )


@housekeeping
async def claim_unfinished(
    session: AsyncSession, now: datetime, stale_after: timedelta
) -> list[tuple[int, dict[str, Any]]]:
    """Stored updates not finished and older than `stale_after`, claimed by making them new
    again: a second instance claiming at the same moment finds them young and leaves them."""
    ids = (
        await session.scalars(
            select(InboxUpdate.update_id)
            .where(
                InboxUpdate.finished_at.is_(None),
                InboxUpdate.received_at <= now - stale_after,
            )
            .order_by(InboxUpdate.update_id)
            .limit(1000)
            .with_for_update(skip_locked=True)
        )
    ).all()
    if not ids:
        return []
    rows = await session.execute(
        update(InboxUpdate)
        .where(
            InboxUpdate.update_id.in_(ids),
            InboxUpdate.finished_at.is_(None),
            InboxUpdate.received_at <= now - stale_after,
        )
        .values(received_at=now)
        .returning(InboxUpdate.update_id, InboxUpdate.payload)
        .execution_options(synchronize_session=False)
    )
    return sorted((update_id, payload) for update_id, payload in rows)


@housekeeping
async def keep_claimed(session: AsyncSession, update_ids: Sequence[int], now: datetime) -> None:
    """The heartbeat of a live instance: the updates it is handling are not stale."""
    await _set_on_unfinished(session, update_ids, received_at=now)


@housekeeping
async def mark_finished(session: AsyncSession, update_ids: Sequence[int], now: datetime) -> None:
    """Their handlers ran to the end. An update that changed nothing is handled now as well."""
    await _set_on_unfinished(
        session,
        update_ids,
        finished_at=now,
        handled_at=func.coalesce(InboxUpdate.handled_at, literal(now, UTCDateTime())),
    )


async def _set_on_unfinished(
    session: AsyncSession, update_ids: Sequence[int], **values: Any
) -> None:
    for start in range(0, len(update_ids), _CHUNK):
        await session.execute(
            update(InboxUpdate)
            .where(
                InboxUpdate.update_id.in_(update_ids[start : start + _CHUNK]),
                InboxUpdate.finished_at.is_(None),
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )


@housekeeping
async def prune(session: AsyncSession, finished_before: datetime) -> None:
    """Telegram keeps an update 24 hours at most: older finished ones can go."""
    await session.execute(delete(InboxUpdate).where(InboxUpdate.finished_at < finished_before))
