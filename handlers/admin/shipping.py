"""/shipping [date]: what to load for each pickup point, grouped by route (text and CSV). It is
the moment the goods leave: the date is marked shipped, and formed orders of it can no longer be
cancelled."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.formatting import day, esc, item_label, local_time, quantity
from bot.services.after_sale import requests
from bot.services.community.people import Actor
from bot.services.pickup import shipping
from handlers import csv_files
from handlers.parsing import iso_date, optional_arg
from handlers.replies import answer_privately
from handlers.texts.pickup import point


async def shipping_list(
    message: Message,
    command: CommandObject,
    bot: Bot,
    session: AsyncSession,
    now: datetime,
    actor: Actor,
    settings: Settings,
) -> None:
    chosen = optional_arg(
        command,
        iso_date,
        "/shipping [YYYY-MM-DD]",
        _("Give a pickup date, or nothing for the next one."),
    )
    load = await shipping.shipping_list(session, actor, chosen)
    out = [_("🚚 <b>Shipping list</b> — pickup {day}").format(day=day(load.pickup_date))]
    for route in load.routes:
        out += ["", "🛣 <b>" + esc(route.route or _("no route")) + "</b>"]
        for stop in route.stops:
            out.append(f"📍 <b>{esc(stop.community)}</b> · {point(stop.point)}")
            out += [
                f"    {item_label(line.number, line.name)} {quantity(line.quantity, line.unit)}"
                for line in stop.lines
            ]
    out += ["", _("<b>Total to load</b>")]
    out += [f"• {esc(name)} {quantity(total, unit)}" for name, unit, total in load.totals]
    shipped = await requests.mark_shipped(session, actor, load.pickup_date, now)
    out.append("")
    if shipped.newly:
        out.append(
            _("🚚 Marked as shipped: residents can no longer cancel orders for {day}.").format(
                day=day(load.pickup_date)
            )
        )
    else:
        out.append(
            _("🚚 Already marked as shipped at {time}.").format(
                time=local_time(shipped.shipped_at, ZoneInfo(settings.timezone))
            )
        )
    if shipped.pending_cancellations:
        out.append(
            ngettext(
                "⚠️ {count} cancellation request for that day was not decided: it can no longer be approved.",
                "⚠️ {count} cancellation requests for that day were not decided: they can no longer be approved.",
                shipped.pending_cancellations,
            ).format(count=shipped.pending_cancellations)
        )
    await answer_privately(message, bot, "\n".join(out), "start", [csv_files.shipping_list(load)])


def router() -> Router:
    """A fresh router (a router can belong to only one dispatcher)."""
    router = Router(name=__name__)
    router.message.register(shipping_list, Command("shipping"))
    return router
