"""Anything else said to the bot privately gets a pointer to /help. Groups are left in peace."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _


async def unknown(message: Message) -> None:
    if (message.text or "").startswith("/"):
        await message.answer(_("I don't know that command. Send /help to see what I can do."))
    else:
        await message.answer(_("Send /help to see what I can do."))


def router() -> Router:
    """A fresh router (a router can belong to only one dispatcher)."""
    router = Router(name=__name__)
    router.message.register(unknown, F.chat.type == "private")
    return router
