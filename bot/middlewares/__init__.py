"""Middlewares, outermost first: a DB session per update, who is asking and where, their locale,
and refusals turned into replies."""

from __future__ import annotations

from collections.abc import Callable

from aiogram import Dispatcher
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.i18n import Catalogs
from bot.middlewares.context import ContextMiddleware
from bot.middlewares.database import DatabaseMiddleware
from bot.middlewares.locale import LocaleMiddleware
from bot.middlewares.refusals import RefusalMiddleware
from bot.services.community.context import ContextReads


def setup_middlewares(
    dp: Dispatcher,
    session_factory: async_sessionmaker[AsyncSession],
    settings: Settings,
    catalogs: Catalogs,
    explain: Callable[[Exception], str | None],
) -> None:
    dp.update.outer_middleware(DatabaseMiddleware(session_factory))
    dp.update.outer_middleware(ContextMiddleware(settings, ContextReads(session_factory)))
    dp.update.outer_middleware(LocaleMiddleware(catalogs, settings.default_language))
    dp.update.outer_middleware(RefusalMiddleware(explain, settings.default_language))
