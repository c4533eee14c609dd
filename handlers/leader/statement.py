"""/statement [YYYY-MM]: a community's commission statement for a month (text and CSV)."""

from __future__ import annotations

from datetime import datetime

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
from handlers.parsing import optional_arg, year_month
from handlers.replies import answer_privately


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
        year_month,
        "/statement [YYYY-MM]",
        _("Give a month like 2026-11 (2000 to 2100), or nothing for this one."),
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
    if sheet.prepaid or sheet.refunds_made or sheet.refunds_owed:
        text += "\n" + _(
            "Residents paid in advance {paid}; refunds made {made}, still owed {owed}."
        ).format(
            paid=money(sheet.prepaid, currency),
            made=money(sheet.refunds_made, currency),
            owed=money(sheet.refunds_owed, currency),
        )
    name = f"statement-{where.id}-{first.strftime('%Y-%m')}.csv"
    await answer_privately(
        message, bot, text, "start", [csv_files.statement_file(name, sheet, where.tz)]
    )


def router() -> Router:
    """A fresh router (a router can belong to only one dispatcher)."""
    router = Router(name=__name__)
    router.message.register(show_statement, Command("statement"))
    return router
