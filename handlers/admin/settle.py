"""/settle <community_id> [amount]: record a commission payout to a community's leader."""

from __future__ import annotations

from datetime import datetime

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.formatting import esc, money
from bot.services.books import ledger
from bot.services.community.people import Actor
from bot.services.ordering.drop_format import parse_price
from handlers.parsing import BadUsage, need_private, positive_int, words


async def settle(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    now: datetime,
    actor: Actor,
    settings: Settings,
) -> None:
    need_private(message, "settle")
    args = words(command)
    community_id = positive_int(args[0]) if args else None
    amount: int | None = None
    if len(args) == 2:
        try:
            amount = parse_price(args[1])
        except ValueError:
            community_id = None
    if community_id is None or len(args) > 2:
        raise BadUsage(
            "/settle community_id [amount]",
            _("Give the community's id (see /communities) and, for part of it, an amount."),
        )
    payout = await ledger.settle(session, actor, community_id, amount, now)
    text = _("💸 Recorded a payout of {amount} to the leader of {community}.").format(
        amount=money(payout.amount, settings.currency), community=esc(payout.community)
    )
    text += " " + _("Unsettled now: {left}.").format(
        left=money(payout.unsettled, settings.currency)
    )
    if payout.leader_id is None:
        text += " " + _("The community has no leader to tell.")
    await message.answer(text)


def router() -> Router:
    """A fresh router (a router can belong to only one dispatcher)."""
    router = Router(name=__name__)
    router.message.register(settle, Command("settle"))
    return router
