"""/points: a resident's points and their history (answered privately)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.formatting import esc, local_time
from bot.services.books import ledger
from handlers.replies import answer_privately
from handlers.texts.books import ledger_reason


async def show_points(
    message: Message, bot: Bot, session: AsyncSession, now: datetime, settings: Settings
) -> None:
    assert message.from_user is not None
    report = await ledger.points(session, message.from_user.id)
    tz = ZoneInfo(settings.timezone)
    out = [_("⭐ <b>Your points: {balance}</b>").format(balance=report.balance)]
    if not report.lines:
        out.append(
            _(
                "You earn 1 point for every {currency}1 you pay, when you pick your goods up."
            ).format(currency=esc(settings.currency))
        )
    for line in report.lines:
        note = ledger_reason(line.reason)
        out.append(
            f"• {local_time(line.at, tz, now)} {esc(line.item)} ({esc(line.community)}) "
            f"{line.points:+d}" + (f" ({note})" if note else "")
        )
    await answer_privately(message, bot, "\n".join(out), "points")


def router() -> Router:
    """A fresh router (a router can belong to only one dispatcher)."""
    router = Router(name=__name__)
    router.message.register(show_points, Command("points"))
    return router
