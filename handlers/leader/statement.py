"""/statement [YYYY-MM]: a community's commission statement for a month (text and CSV)."""

from __future__ import annotations

import re
from datetime import date, datetime

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.formatting import esc, money
from bot.services.books import exports
from bot.services.books.ledger import month_bounds
from bot.services.community.communities import CommunityRef
from bot.services.community.people import Actor
from handlers import csv_files
from handlers.leader.scope import led_community
from handlers.parsing import optional_arg
from handlers.replies import answer_privately

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


async def show_statement(
    message: Message,
    command: CommandObject,
    bot: Bot,
    session: AsyncSession,
    now: datetime,
    actor: Actor,
    settings: Settings,
    community: CommunityRef | None,
    leads: tuple[CommunityRef, ...],
) -> None:
    where = led_community(message, actor, community, leads)
    month = optional_arg(
        command,
        _month,
        "/statement [YYYY-MM]",
        _("Give a month like 2026-11, or nothing for this one."),
    )
    first = month or now.astimezone(where.tz).date().replace(day=1)
    start, end = month_bounds(first, where.tz)
    sheet = await exports.statement(session, actor, where, start, end)
    currency = settings.currency
    text = "\n".join(
        [
            _("📒 <b>Statement</b> — {community}, {month}").format(
                community=esc(sheet.community), month=first.strftime("%Y-%m")
            ),
            _("Unsettled at the start: {amount}").format(
                amount=money(sheet.balance_before, currency)
            ),
            _("Commission this month: {amount} ({count} entries)").format(
                amount=money(sheet.earned, currency), count=len(sheet.lines)
            ),
            _("Paid out this month: {amount}").format(amount=money(sheet.paid, currency)),
            _("<b>Unsettled at the end: {amount}</b>").format(
                amount=money(sheet.balance_after, currency)
            ),
        ]
    )
    name = f"statement-{where.id}-{first.strftime('%Y-%m')}.csv"
    await answer_privately(
        message, bot, text, "start", [csv_files.statement_file(name, sheet, where.tz)]
    )


def _month(text: str) -> date | None:
    match = _MONTH.match(text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
        return None
    return date(int(match.group(1)), int(match.group(2)), 1)


def router() -> Router:
    """A fresh router (a router can belong to only one dispatcher)."""
    router = Router(name=__name__)
    router.message.register(show_statement, Command("statement"))
    return router
