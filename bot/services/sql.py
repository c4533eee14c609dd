"""The one place that knows which database it talks to: INSERT … ON CONFLICT for both dialects."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def upsert(session: AsyncSession, entity: Any) -> Any:
    """An `insert()` that has `.on_conflict_do_update/nothing` and `.excluded` on this dialect."""
    bind = session.bind
    name = bind.dialect.name if bind is not None else "sqlite"
    if name == "postgresql":
        return postgresql.insert(entity)
    return sqlite.insert(entity)
