"""The one place that knows which database it talks to: INSERT … ON CONFLICT for both dialects."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def upsert(session: AsyncSession | str, entity: Any) -> Any:
    """An `insert()` with `.on_conflict_do_update/nothing` and `.excluded`, for the session's
    database (or a dialect name)."""
    name = session if isinstance(session, str) else session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(entity)
    return sqlite.insert(entity)
