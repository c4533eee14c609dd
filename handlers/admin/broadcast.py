"""/broadcast: news to every community group, then a report to the admin."""

from __future__ import annotations

from datetime import datetime

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.sender import OutboxSender
from bot.services import broadcasts
from bot.services.people import Actor
from handlers.parsing import BadUsage, need_private


async def broadcast(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    now: datetime,
    actor: Actor,
    sender: OutboxSender,
) -> None:
    need_private(message, "broadcast")
    actor.require_admin()
    text = (command.args or "").strip()
    if not text:
        raise BadUsage("/broadcast text", _("Write the news after the command."))
    count = await broadcasts.start(session, actor, text, now)
    sender.wake()
    await message.answer(
        ngettext(
            "📢 Broadcasting to {count} community… I will report here when it is done.",
            "📢 Broadcasting to {count} communities… I will report here when it is done.",
            count,
        ).format(count=count)
    )


def router() -> Router:
    """A fresh router (a router can belong to only one dispatcher)."""
    router = Router(name=__name__)
    router.message.register(broadcast, Command("broadcast"))
    return router
