"""/commission: the leader's earnings (answered privately), with the chart of their orders and
sales over the last 30 days."""

from __future__ import annotations

from datetime import datetime

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.formatting import esc, local_time, money
from bot.services.books import ledger
from bot.services.books import report as daily_figures
from bot.services.community.communities import CommunityRef
from bot.services.community.people import Actor
from handlers.leader.report import DEFAULT_DAYS, chart_of
from handlers.leader.scope import led_community
from handlers.replies import answer_privately
from handlers.texts.books import ledger_reason, rate


async def show_commission(
    message: Message,
    bot: Bot,
    session: AsyncSession,
    now: datetime,
    actor: Actor,
    settings: Settings,
    community: CommunityRef | None,
    leads: tuple[CommunityRef, ...],
) -> None:
    where = led_community(message, actor, community, leads)
    report = await ledger.commission(session, actor, where, now)
    currency = settings.currency
    out = [
        _("💰 <b>Commission</b> — {community} ({rate})").format(
            community=esc(report.community), rate=rate(report.rate)
        ),
        _("Earned {earned} · settled {settled} · <b>unsettled {unsettled}</b>").format(
            earned=money(report.earned, currency),
            settled=money(report.settled, currency),
            unsettled=money(report.unsettled, currency),
        ),
        _("This month: {month}").format(month=money(report.this_month, currency)),
    ]
    if report.lines:
        out += ["", _("<b>Latest orders</b>")]
        for line in report.lines:
            note = ledger_reason(line.reason)
            out.append(
                f"• {local_time(line.at, where.tz, now)} #{line.number} {esc(line.item)} "
                f"{money(line.amount, currency)} → {money(line.commission, currency)}"
                + (f" ({note})" if note else "")
            )
    else:
        out.append(_("Nothing earned yet: commission comes with each order handed over."))
    out.append(_("Every order of a month: /statement [YYYY-MM]"))
    figures = await daily_figures.daily(session, actor, [where.id], DEFAULT_DAYS, where.tz, now)
    chart = await chart_of(figures, where.name, currency)
    await answer_privately(message, bot, "\n".join(out), "start", chart=chart)


def router() -> Router:
    """A fresh router (a router can belong to only one dispatcher)."""
    router = Router(name=__name__)
    router.message.register(show_commission, Command("commission"))
    return router
