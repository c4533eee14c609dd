"""/start: the private chat opens; anything waiting for it is delivered; deep links continue."""

from __future__ import annotations

import re
from datetime import datetime

from aiogram import Bot, Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.formatting import esc
from bot.services.community import referrals
from bot.services.community.communities import CommunityRef
from bot.services.community.people import Actor
from handlers.common.help import help_text
from handlers.keyboards import start_keyboard
from handlers.replies import answer
from handlers.resident import orders


async def start(
    message: Message,
    command: CommandObject,
    bot: Bot,
    session: AsyncSession,
    now: datetime,
    actor: Actor,
    leads: tuple[CommunityRef, ...],
    released: int,
    settings: Settings,
) -> None:
    if message.chat.type != "private":
        me = await bot.me()
        await message.reply(
            _("Talk to me privately for your orders and pickup codes."),
            reply_markup=start_keyboard(me.username or "", "start"),
        )
        return
    assert message.from_user is not None
    greeting = _("👋 Hello, {name}! I can now write to you privately.").format(
        name=esc(message.from_user.first_name)
    )
    referrer = _referrer(command.args)
    if referrer is not None:
        brought_by = await referrals.record_referral(session, message.from_user.id, referrer)
        if brought_by is not None:
            greeting += "\n" + _("🤝 Welcome! {name} invited you.").format(name=esc(brought_by))
    if released:
        greeting += "\n" + ngettext(
            "📬 Sending you {count} message that was waiting.",
            "📬 Sending you {count} messages that were waiting.",
            released,
        ).format(count=released)
    await answer(message, greeting + "\n\n" + help_text(actor, False, None, leads))
    if command.args == "codes":
        await orders.show_codes(message, bot, session)
    elif command.args == "mine":
        await orders.show_orders(message, bot, session, now, settings)


def _referrer(payload: str | None) -> int | None:
    """The inviter's id from an /invite link's payload ("ref-12345")."""
    if not payload or not payload.startswith("ref-"):
        return None
    digits = payload.removeprefix("ref-")
    # ASCII digits only: "²" or "٣" are digits to str.isdigit() but not an id.
    return int(digits) if re.fullmatch(r"[0-9]{1,15}", digits) else None


def router() -> Router:
    """A fresh router (a router can belong to only one dispatcher)."""
    router = Router(name=__name__)
    router.message.register(start, CommandStart())
    return router
