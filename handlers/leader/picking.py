"""The leader's lists: /summary (picking list), /unpicked, /remind. Lists are answered privately."""

from __future__ import annotations

from datetime import datetime

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from sqlalchemy.ext.asyncio import AsyncSession

from bot.formatting import day, esc, item_label, local_time, quantity
from bot.services.community.communities import CommunityRef
from bot.services.community.people import Actor
from bot.services.pickup import handover
from handlers import csv_files
from handlers.leader.scope import led_community
from handlers.parsing import iso_date, optional_arg
from handlers.replies import answer_privately
from models import OrderState


async def summary(
    message: Message,
    command: CommandObject,
    bot: Bot,
    session: AsyncSession,
    actor: Actor,
    community: CommunityRef | None,
    leads: tuple[CommunityRef, ...],
) -> None:
    where = led_community(message, actor, community, leads)
    chosen = optional_arg(
        command,
        iso_date,
        "/summary [YYYY-MM-DD]",
        _("Give a pickup date, or nothing for the latest."),
    )
    picking = await handover.summary(session, actor, where, chosen)
    out = [
        _("📋 <b>Picking list</b> — {community}, pickup {day}").format(
            community=esc(picking.community), day=day(picking.pickup_date)
        )
    ]
    for item in picking.items:
        out.append(
            ngettext(
                "{item}: {qty} for {buyers} buyer", "{item}: {qty} for {buyers} buyers", item.buyers
            ).format(
                item=item_label(item.number, item.name),
                qty=quantity(item.quantity, item.unit),
                buyers=item.buyers,
            )
            + (" 📦" if item.arrived else "")
            + (
                " " + _("({short} short)").format(short=quantity(item.short, item.unit))
                if item.short
                else ""
            )
        )
    out += ["", _("<b>By resident</b>")]
    for resident, lines in picking.residents:
        handed = ", ".join(
            f"#{line.number} {esc(line.name)} {quantity(line.quantity, line.unit)}"
            + (" ✔" if line.state is OrderState.PICKED_UP else "")
            for line in lines
        )
        out.append(f"• {esc(resident)}: {handed}")
    await answer_privately(message, bot, "\n".join(out), "start", [csv_files.picking_list(picking)])


async def unpicked(
    message: Message,
    bot: Bot,
    session: AsyncSession,
    actor: Actor,
    community: CommunityRef | None,
    leads: tuple[CommunityRef, ...],
) -> None:
    where = led_community(message, actor, community, leads)
    waiting = await handover.unpicked(session, actor, where)
    if not waiting:
        text = _("Everyone has collected their goods at {community}. 🎉").format(
            community=esc(where.name)
        )
    else:
        out = [
            _("📦 <b>Waiting for pickup</b> — {community} ({count})").format(
                community=esc(where.name), count=len(waiting)
            )
        ]
        for resident in waiting:
            goods = ", ".join(
                f"#{line.number} {esc(line.name)} {quantity(line.quantity, line.unit)}"
                for line in resident.items
            )
            out.append(
                _("• {name}: {goods} (ready since {since})").format(
                    name=esc(resident.resident),
                    goods=goods,
                    since=local_time(resident.ready_since, where.tz),
                )
            )
        out.append(_("Remind them all privately with /remind."))
        text = "\n".join(out)
    await answer_privately(message, bot, text, "start")


async def remind(
    message: Message,
    session: AsyncSession,
    now: datetime,
    actor: Actor,
    community: CommunityRef | None,
    leads: tuple[CommunityRef, ...],
) -> None:
    where = led_community(message, actor, community, leads)
    reminded, recently = await handover.remind(session, actor, where, now)
    if not reminded and not recently:
        await message.reply(_("Nobody has goods waiting: no reminders needed."))
        return
    text = ngettext(
        "⏰ Reminding {count} resident privately.",
        "⏰ Reminding {count} residents privately.",
        reminded,
    ).format(count=reminded)
    if recently:
        text += " " + ngettext(
            "{count} was already reminded in the last hour.",
            "{count} were already reminded in the last hour.",
            recently,
        ).format(count=recently)
    await message.reply(text)


def router() -> Router:
    """A fresh router (a router can belong to only one dispatcher)."""
    router = Router(name=__name__)
    router.message.register(summary, Command("summary"))
    router.message.register(unpicked, Command("unpicked"))
    router.message.register(remind, Command("remind"))
    return router
