"""One database session per update, and one "now" for everything the update does."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.kernel.clock import utcnow


class DatabaseMiddleware(BaseMiddleware):
    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self.session_factory = session_factory

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        session = self.session_factory()
        data["session"] = session
        data["now"] = utcnow()
        try:
            return await handler(event, data)
        finally:
            # Units of work end their transactions, and a session outside one holds no
            # connection: closing it then does nothing but cost a task (AsyncSession shields
            # its close), for every update of a burst.
            if session.in_transaction():
                await session.close()
