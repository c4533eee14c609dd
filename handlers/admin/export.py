"""/export [from] [to]: every order joined in that period, as CSV."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.formatting import day, money
from bot.services.books import exports
from bot.services.community.people import Actor
from handlers import csv_files
from handlers.parsing import BadUsage, iso_date, words
from handlers.replies import answer_privately

MAX_DAYS = 366


async def export_orders(
    message: Message,
    command: CommandObject,
    bot: Bot,
    session: AsyncSession,
    now: datetime,
    actor: Actor,
    settings: Settings,
) -> None:
    actor.require_admin()
    tz = ZoneInfo(settings.timezone)
    today = now.astimezone(tz).date()
    args = words(command)
    dates = [iso_date(arg) for arg in args]
    first = dates[0] if dates else today.replace(day=1)
    last = dates[1] if len(dates) > 1 else (today if not dates else first)
    if (
        len(args) > 2
        or any(d is None for d in dates)
        or first is None
        or last is None
        or first > last
        or (last - first).days >= MAX_DAYS
    ):
        raise BadUsage(
            "/export [YYYY-MM-DD] [YYYY-MM-DD]",
            _(
                "Give a first and last day (at most a year, 2000 to 2100), one day, or nothing "
                "for this month."
            ),
        )
    rows = await exports.orders_between(
        session, actor, _start(first, tz), _start(last, tz) + timedelta(days=1)
    )
    text = _(
        "🧾 Orders joined {first} – {last}: {count}; owed {amount}; refunded {refunded}; "
        "commission {commission}; points {points}."
    ).format(
        first=day(first),
        last=day(last),
        count=len(rows),
        amount=money(sum(r.amount for r in rows), settings.currency),
        refunded=money(sum(r.refunded for r in rows), settings.currency),
        commission=money(sum(r.commission for r in rows), settings.currency),
        points=sum(r.points for r in rows),
    )
    paid = sum(r.paid for r in rows)
    if paid:
        text += " " + _("Paid in advance {paid}; refunds made {made}; refunds owed {owed}.").format(
            paid=money(paid, settings.currency),
            made=money(sum(r.refunds_made for r in rows), settings.currency),
            owed=money(sum(r.refunds_owed for r in rows), settings.currency),
        )
    name = f"orders-{first.isoformat()}-{last.isoformat()}.csv"
    await answer_privately(message, bot, text, "start", [csv_files.orders_file(name, rows, tz)])


def _start(day_: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day_, time(), tz)


def router() -> Router:
    """A fresh router (a router can belong to only one dispatcher)."""
    router = Router(name=__name__)
    router.message.register(export_orders, Command("export"))
    return router
