"""A resident's own things, always answered privately: /mine and /codes."""

from __future__ import annotations

from datetime import datetime

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.services.ordering import joins
from bot.services.pickup import handover
from handlers.replies import answer_privately
from handlers.texts.pickup import code_block, my_orders


async def show_orders(
    message: Message, bot: Bot, session: AsyncSession, now: datetime, settings: Settings
) -> None:
    assert message.from_user is not None
    orders = await joins.my_orders(session, message.from_user.id, now)
    await answer_privately(message, bot, my_orders(orders, now, settings.currency), "mine")


async def show_codes(message: Message, bot: Bot, session: AsyncSession) -> None:
    assert message.from_user is not None
    codes = await handover.active_codes(session, message.from_user.id)
    if not codes:
        text = _("You have no pickup codes right now. You get one when an item you joined forms.")
    else:
        text = "\n\n".join(code_block(code) for code in codes)
    await answer_privately(message, bot, text, "codes")


async def mine(
    message: Message, bot: Bot, session: AsyncSession, now: datetime, settings: Settings
) -> None:
    await show_orders(message, bot, session, now, settings)


async def codes(message: Message, bot: Bot, session: AsyncSession) -> None:
    # Codes never appear in a group: asked there, they are sent privately.
    await show_codes(message, bot, session)


def router() -> Router:
    """A fresh router (a router can belong to only one dispatcher)."""
    router = Router(name=__name__)
    router.message.register(mine, Command("mine"))
    router.message.register(codes, Command("codes"))
    return router
