"""The goods' arrival and handover: /arrived [n …], /pickup code, /undo code."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.formatting import esc, item_label, quantity
from bot.services.community.communities import CommunityRef
from bot.services.community.people import Actor
from bot.services.pickup import codes, handover
from handlers.leader.scope import handover_scope, led_community
from handlers.moderation import take_down
from handlers.parsing import BadUsage, positive_int, words
from handlers.texts.common import lines


async def arrived(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    now: datetime,
    actor: Actor,
    community: CommunityRef | None,
    leads: tuple[CommunityRef, ...],
) -> None:
    where = led_community(message, actor, community, leads)
    numbers = [positive_int(arg) for arg in words(command)]
    if any(number is None for number in numbers):
        raise BadUsage("/arrived [n …]", _("Give item numbers, or nothing for every formed item."))
    arrival = await handover.confirm_arrival(
        session, actor, where, [n for n in numbers if n is not None], now
    )
    goods = ", ".join(
        f"{item_label(line.number, line.name)} {quantity(line.quantity, line.unit)}"
        for line in arrival.items
    )
    text = ngettext(
        "📦 Arrived: {goods}.\nTelling {count} resident privately that it is ready.",
        "📦 Arrived: {goods}.\nTelling {count} residents privately that it is ready.",
        arrival.residents,
    ).format(goods=goods, count=arrival.residents)
    if not where.point.is_set:
        text += "\n" + _("Tip: set the pickup point with /setpoint so they know where to go.")
    await message.reply(text)


@asynccontextmanager
async def typed_code(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    usage: str,
    actor: Actor,
    community: CommunityRef | None,
    leads: tuple[CommunityRef, ...],
) -> AsyncIterator[tuple[list[CommunityRef] | None, str]]:
    """The code a leader typed and where it may be used. A code typed in a group is visible to
    everyone, so the message is removed afterwards (when the bot is allowed to), whatever the
    outcome."""
    try:
        args = words(command)
        if len(args) != 1:
            raise BadUsage(
                usage,
                _("Give the resident's {digits}-digit pickup code.").format(digits=codes.DIGITS),
            )
        yield handover_scope(message, actor, community, leads), args[0]
    finally:
        await take_down(message, session, community)


async def pickup(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    now: datetime,
    actor: Actor,
    community: CommunityRef | None,
    leads: tuple[CommunityRef, ...],
    settings: Settings,
) -> None:
    async with typed_code(
        message, command, session, "/pickup code", actor, community, leads
    ) as typed:
        result = await handover.hand_over(session, actor, *typed, now, settings.admin_ids)
    out = [
        _("✅ Hand over to <b>{name}</b> ({community}):").format(
            name=esc(result.resident), community=esc(result.community)
        ),
        lines(result.items),
    ]
    if result.waiting:
        out.append(_("Still to come on this code (it stays valid for them):"))
        out.append(lines(result.waiting))
    else:
        out.append(_("The code is now used up."))
    await message.answer("\n".join(out))


async def undo(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    now: datetime,
    actor: Actor,
    community: CommunityRef | None,
    leads: tuple[CommunityRef, ...],
    settings: Settings,
) -> None:
    async with typed_code(
        message, command, session, "/undo code", actor, community, leads
    ) as typed:
        result = await handover.undo_handover(session, actor, *typed, now, settings.admin_ids)
    await message.answer(
        _("↩️ Undone: {name}'s goods are waiting for pickup again:").format(
            name=esc(result.resident)
        )
        + "\n"
        + lines(result.items)
    )


def router() -> Router:
    """A fresh router (a router can belong to only one dispatcher)."""
    router = Router(name=__name__)
    router.message.register(arrived, Command("arrived"))
    router.message.register(pickup, Command("pickup"))
    router.message.register(undo, Command("undo"))
    return router
