"""The leader's commands about the group itself: /setpoint, /close, /lang (for the group)."""

from __future__ import annotations

from datetime import datetime

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.formatting import item_label, progress
from bot.services.community.communities import CommunityRef, require_community
from bot.services.community.people import Actor
from bot.services.ordering import closing
from handlers.parsing import BadUsage, need_group, positive_int, words


async def close_item(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    now: datetime,
    actor: Actor,
    community: CommunityRef | None,
) -> None:
    need_group(message, "close")
    where = require_community(community)
    args = words(command)
    number = positive_int(args[0]) if len(args) == 1 else None
    if number is None:
        raise BadUsage("/close n", _("Give the number of the open item to close now."))
    closed = await closing.close_now(session, actor, where, number, now)
    outcome = _("formed ✅") if closed.formed else _("did not form ❌")
    await message.reply(
        _("⏹ Closed {item}: {outcome} ({progress}).").format(
            item=item_label(closed.number, closed.name),
            outcome=outcome,
            progress=progress(closed.members, closed.min_members),
        )
    )


def router() -> Router:
    """A fresh router (a router can belong to only one dispatcher)."""
    router = Router(name=__name__)
    router.message.register(close_item, Command("close"))
    return router
