"""The one place that knows which database it talks to: INSERT … ON CONFLICT and day arithmetic
for both dialects."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, literal_column
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def upsert(session: AsyncSession | str, entity: Any) -> Any:
    """An `insert()` with `.on_conflict_do_update/nothing` and `.excluded`, for the session's
    database (or a dialect name)."""
    name = session if isinstance(session, str) else session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(entity)
    return sqlite.insert(entity)


def local_day(session: AsyncSession, column: Any, offset: timedelta) -> Any:
    """The calendar day of a UTC timestamp column at a fixed offset from UTC (a zone's offset
    now: good enough to put a month's orders on a chart by day)."""
    minutes = int(offset.total_seconds() // 60)
    if session.get_bind().dialect.name == "postgresql":
        return func.date(column + literal_column(f"interval '{minutes} minutes'"))
    return func.date(column, f"{minutes:+d} minutes")
