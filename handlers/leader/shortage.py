"""/short n qty: goods of item n that did not arrive."""

from __future__ import annotations

from datetime import datetime

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from sqlalchemy.ext.asyncio import AsyncSession

from bot.formatting import item_label, quantity
from bot.services.community.communities import CommunityRef
from bot.services.community.people import Actor
from bot.services.ordering import shortages
from handlers.leader.scope import led_community
from handlers.parsing import BadUsage, positive_int, words


async def short(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    now: datetime,
    actor: Actor,
    community: CommunityRef | None,
    leads: tuple[CommunityRef, ...],
) -> None:
    where = led_community(message, actor, community, leads)
    args = words(command)
    number = positive_int(args[0]) if len(args) == 2 else None
    missing = positive_int(args[1]) if len(args) == 2 else None
    if number is None or missing is None:
        raise BadUsage("/short n qty", _("Give the item number and how many units did not arrive."))
    result = await shortages.report_short(session, actor, where, number, missing, now)
    text = ngettext(
        "⚠️ {item}: {short} missing. {count} buyer told privately (latest joiners first); "
        "nothing is owed for it.",
        "⚠️ {item}: {short} missing. {count} buyers told privately (latest joiners first); "
        "nothing is owed for it.",
        len(result.affected),
    ).format(
        item=item_label(result.number, result.name),
        short=quantity(result.short, result.unit),
        count=len(result.affected),
    )
    text += "\n" + _("Still to hand over: {left}. /summary shows who gets what.").format(
        left=quantity(result.to_hand_over, result.unit)
    )
    await message.reply(text)


def router() -> Router:
    """A fresh router (a router can belong to only one dispatcher)."""
    router = Router(name=__name__)
    router.message.register(short, Command("short"))
    return router
