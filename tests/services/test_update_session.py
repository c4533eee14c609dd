"""The database session of an update: closed when a handler left a transaction open."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.db import create_session_factory
from bot.middlewares.database import DatabaseMiddleware


async def test_a_transaction_left_open_is_rolled_back_and_its_connection_returned(
    engine: AsyncEngine,
) -> None:
    middleware = DatabaseMiddleware(create_session_factory(engine))
    sessions: list[AsyncSession] = []

    async def careless(_event: Any, data: dict[str, Any]) -> str:
        session: AsyncSession = data["session"]
        sessions.append(session)
        await session.execute(text("SELECT 1"))  # begins a transaction nobody ends
        assert engine.pool.checkedout() == 1
        return "done"

    assert await middleware(careless, object(), {}) == "done"
    assert not sessions[0].in_transaction()
    assert engine.pool.checkedout() == 0


async def test_a_handler_that_fails_with_a_transaction_open_returns_its_connection(
    engine: AsyncEngine,
) -> None:
    middleware = DatabaseMiddleware(create_session_factory(engine))

    async def failing(_event: Any, data: dict[str, Any]) -> None:
        await data["session"].execute(text("SELECT 1"))
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await middleware(failing, object(), {})
    assert engine.pool.checkedout() == 0
