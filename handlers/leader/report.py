"""/report [days]: orders and sales per day, with a chart. A leader's for the community they
lead (answered privately); an admin's, in a private chat, for the whole platform and its top
communities. `/commission` and `/communities` come with the same chart for the last 30 days."""

from __future__ import annotations

import asyncio
from datetime import datetime

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.imaging.charts import ChartWords, SalesLine, draw_daily_chart
from bot.services.books import report
from bot.services.books.report import MAX_DAYS, DailyReport
from bot.services.community.communities import CommunityRef
from bot.services.community.people import Actor
from handlers.leader.scope import led_community
from handlers.parsing import BadUsage, positive_int, words
from handlers.replies import answer_privately
from handlers.texts.books import daily_report

DEFAULT_DAYS = 30


async def show_report(
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
    args = words(command)
    days = positive_int(args[0]) if len(args) == 1 else DEFAULT_DAYS if not args else None
    if days is None or days > MAX_DAYS:
        raise BadUsage("/report [days]", _("Give a number of days from 1 to 365 (30 if left out)."))
    platform = actor.is_admin and message.chat.type == "private"
    where = None if platform else led_community(message, actor, community, leads)
    figures = await report.daily(
        session,
        actor,
        None if where is None else [where.id],
        days,
        where.tz if where else settings.zone,
        now,
    )
    chart = await chart_of(figures, where.name if where else None, settings.currency)
    text = daily_report(figures, where.name if where else None, settings.currency)
    await answer_privately(message, bot, text, "start", chart=chart)


async def chart_of(figures: DailyReport, community: str | None, currency: str) -> BufferedInputFile:
    """The chart as a PNG to send, drawn off the event loop."""
    if community is None:
        lines = [SalesLine(_("Platform"), _major(figures.total.sales))]
        lines += [SalesLine(s.name, _major(s.sales)) for s in figures.communities]
    else:
        lines = [SalesLine(community, _major(figures.total.sales))]
    words = ChartWords(
        title=_("Orders and sales, last {days} days").format(days=figures.days)
        + (f" · {community}" if community else ""),
        orders=_("Orders"),
        sales=_("Sales ({currency})").format(currency=currency),
    )
    png = await asyncio.to_thread(
        draw_daily_chart, figures.dates, figures.total.orders, lines, words
    )
    return BufferedInputFile(png, "report.png")


def _major(amounts: tuple[int, ...]) -> list[float]:
    return [amount / 100 for amount in amounts]


def router() -> Router:
    """A fresh router (a router can belong to only one dispatcher)."""
    router = Router(name=__name__)
    router.message.register(show_report, Command("report"))
    return router
