"""/invite: your personal start link; neighbours who start the bot through it count as yours."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from handlers.keyboards import start_link
from handlers.replies import answer_privately


async def invite(message: Message, bot: Bot) -> None:
    assert message.from_user is not None
    me = await bot.me()
    link = start_link(me.username or "", f"ref-{message.from_user.id}")
    text = _(
        "🤝 Your invite link:\n{link}\n\nNeighbours who open it and press Start before their "
        "first order are counted as brought by you; your community's leader sees who brought whom."
    ).format(link=link)
    await answer_privately(message, bot, text, "invite")


def router() -> Router:
    """A fresh router (a router can belong to only one dispatcher)."""
    router = Router(name=__name__)
    router.message.register(invite, Command("invite"))
    return router
