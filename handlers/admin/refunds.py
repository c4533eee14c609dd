"""/refunds and /refunded: the refunds owed to residents who paid in advance, and marking them
done once made at the payment provider."""

from __future__ import annotations

import re
from datetime import date, datetime

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.services.community.people import Actor
from bot.services.payments import refunds
from handlers.parsing import BadUsage, need_private, positive_int, words
from handlers.replies import answer
from handlers.texts import payments


async def owed(
    message: Message, session: AsyncSession, now: datetime, actor: Actor, settings: Settings
) -> None:
    need_private(message, "refunds")
    listed = await refunds.owed(session, actor)
    await answer(message, payments.owed_list(listed, settings.currency, settings.zone, now))


async def refunded(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    now: datetime,
    actor: Actor,
    settings: Settings,
) -> None:
    need_private(message, "refunded")
    args = words(command)
    usage = BadUsage(
        "/refunded id | YYYY-MM-DD | all",
        _("Give the refund's id from /refunds, a day (all owed that day), or all."),
    )
    if len(args) != 1:
        raise usage
    arg = args[0].lower()
    if arg == "all":
        done = await refunds.mark_refunded(session, actor, now)
    elif re.fullmatch(r"\d{4}-\d{2}-\d{2}", arg):
        try:
            day = date.fromisoformat(arg)
        except ValueError:
            raise usage from None
        done = await refunds.mark_refunded(session, actor, now, day=day, zone=settings.zone)
    else:
        refund_id = positive_int(arg)
        if refund_id is None:
            raise usage
        done = await refunds.mark_refunded(session, actor, now, refund_id=refund_id)
    await message.answer(payments.refunded_reply(done, settings.currency))


def router() -> Router:
    """A fresh router (a router can belong to only one dispatcher)."""
    router = Router(name=__name__)
    router.message.register(owed, Command("refunds"))
    router.message.register(refunded, Command("refunded"))
    return router
