"""The pickup point, pickup codes, "ready" and reminders, a resident's orders; their refusals.

Every wording of a pickup code is here. Codes only ever appear in private messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from bot.formatting import (
    day,
    esc,
    item_label,
    local_time,
    mention,
    money,
    progress,
    quantity,
    quote,
)
from bot.services.kernel import errors
from bot.services.notices import CodeGuessingNotice, ReadyNotice, ReminderNotice
from bot.services.ordering.joins import OrderView
from bot.services.pickup import codes
from bot.services.pickup.handover import CodeView
from bot.services.pickup.point import BadPointField, PickupPoint
from handlers.texts.common import bullet, line
from models import OrderState


def point(place: PickupPoint) -> str:
    """Where to collect goods, on one line: address, hours, contact, notes."""
    if not place.is_set:
        return _("the pickup point (ask your leader: it is not set yet)")
    parts = []
    address = place.full_address()
    if address:
        parts.append(esc(address))
    if place.hours:
        parts.append("🕘 " + esc(place.hours))
    contact = " ".join(p for p in (place.contact, place.phone) if p)
    if contact:
        parts.append("☎ " + esc(contact))
    if place.notes:
        parts.append(esc(place.notes))
    return " · ".join(parts)


def code_guessing(notice: CodeGuessingNotice) -> str:
    """To an admin: someone typed many wrong codes and is paused."""
    return _(
        "🚨 {name} typed {wrong} wrong pickup codes within a minute{where}. Their /pickup and "
        "/undo are paused until {time}. If that is not them, their account may be misused."
    ).format(
        name=mention(notice.user_id, notice.name),
        wrong=notice.wrong,
        where=_(" in {community}").format(community=esc(notice.community))
        if notice.community
        else "",
        time=local_time(notice.until, ZoneInfo(notice.timezone)),
    )


def your_code(code: str) -> str:
    """The line of a "your group-buys closed" message that gives the code."""
    return _("🔑 Your pickup code: <code>{code}</code>").format(code=code)


def show_code_at(place: PickupPoint) -> str:
    return _(
        "Show the code at {point} on the pickup day. "
        "I will tell you when the goods have arrived. Keep it private."
    ).format(point=point(place))


def ready(notice: ReadyNotice) -> str:
    """Private: the goods are at the pickup point (or, as a reminder, still are)."""
    head = (
        _("⏰ <b>Reminder</b>: your goods are waiting at {community}.")
        if isinstance(notice, ReminderNotice)
        else _("📦 <b>Your goods are ready</b> at {community}!")
    ).format(community=esc(notice.community))
    items = "\n".join(bullet(i.number, i.name, i.quantity, i.unit) for i in notice.items)
    return "\n".join(
        [
            head,
            _("📍 {point}").format(point=point(notice.where)),
            items,
            _("🔑 Pickup code: <code>{code}</code> (pickup day {day})").format(
                code=notice.code, day=day(notice.pickup_date)
            ),
        ]
    )


def code_block(code: CodeView) -> str:
    """/codes: one code, where, what for, and whether it can be used now."""
    all_ready = all(item.state is OrderState.READY for item in code.items)
    head = _("🔑 <b>{code}</b> — {community}, pickup {day}").format(
        code=code.code, community=esc(code.community), day=day(code.pickup_date)
    )
    where = _("📍 {point}").format(point=point(code.point))
    state = (
        _("Ready now: show this code at the pickup point.")
        if all_ready
        else _("Not all goods have arrived yet; you will be told when they are ready.")
    )
    body = "\n".join(
        line(item) + ("" if item.state is OrderState.READY else " " + _("(on its way)"))
        for item in code.items
    )
    return f"{head}\n{where}\n{body}\n{state}"


def order_state(order: OrderView, now: datetime) -> str:
    tz = ZoneInfo(order.timezone)
    match order.state:
        case OrderState.JOINED:
            return _("joined, waiting to form: {progress}, closes {deadline}").format(
                progress=progress(order.members, order.min_members),
                deadline=local_time(order.deadline, tz, now),
            )
        case OrderState.CONFIRMED:
            return _("formed ✅ — pickup on {day}").format(day=day(order.pickup_date))
        case OrderState.READY:
            return _("ready for pickup at {point} 📦").format(point=point(order.point))
        case OrderState.PICKED_UP:
            return _("picked up ✔")
        case OrderState.CANCELLED:
            return _("cancelled")
        case OrderState.FAILED:
            return _("did not form — nothing owed")
        case OrderState.SHORT:
            return _("did not arrive — nothing owed")
        case OrderState.RETURNED:
            return _("returned")
        case OrderState.RESERVED:
            return _("held for you: pay the invoice in our private chat to join")
        case OrderState.LAPSED:
            return _("not paid in time — let go")
    return str(order.state)


def my_orders(orders: Sequence[OrderView], now: datetime, currency: str) -> str:
    """/mine: the resident's orders by community, each with its state in words and its code."""
    if not orders:
        return _("You have no orders yet. Join an item in your community's group with /join.")
    out = [_("🧾 <b>Your orders</b>")]
    community = None
    for order in orders:
        if order.community != community:
            community = order.community
            out.append(f"\n🏘 <b>{esc(community)}</b>")
        out.append(
            f"{item_label(order.number, order.name)} {quantity(order.quantity, order.unit)}"
            f" · {money(order.amount, currency)}\n    {order_state(order, now)}"
        )
        if order.short and order.state is not OrderState.SHORT:
            out.append(
                "    "
                + _("{short} did not arrive: not owed, you get {kept}.").format(
                    short=order.short, kept=order.quantity - order.short
                )
            )
        if order.code:
            out.append("    " + _("pickup code: <code>{code}</code>").format(code=order.code))
    return "\n".join(out)


def _not_formed(error: errors.ItemNotFormed) -> str:
    if error.state is None:
        return _("There is no item #{number} here.").format(number=error.number)
    return {
        "open": _("#{number} is still open: close it first (/close {number})."),
        "failed": _("#{number} did not form: there is nothing to deliver."),
        "arrived": _("#{number} was already confirmed as arrived."),
        "scheduled": _("#{number} is not open yet."),
    }.get(error.state, _("#{number} cannot be confirmed now.")).format(number=error.number)


def refusal(error: Exception) -> str | None:
    match error:
        case errors.NothingToArrive():
            return _("There are no formed items waiting for their goods.")
        case errors.ItemNotFormed():
            return _not_formed(error)
        case errors.NothingClosed():
            return _("There are no closed items to list yet.")
        case errors.NothingToShip(day=shipping_day):
            if shipping_day is None:
                return _("No formed goods are waiting to be shipped.")
            return _("Nothing formed is to be picked up on {day}.").format(day=day(shipping_day))
        case errors.CodeMalformed():
            return _(
                "A pickup code is exactly {digits} digits, e.g. <code>/pickup {example}</code>."
            ).format(digits=codes.DIGITS, example=codes.EXAMPLE)
        case errors.CodeUnknown():
            return _("No such pickup code here. Check the digits with the resident.")
        case errors.CodeUsed(used_at=used_at, timezone=timezone):
            return _(
                "This code was already used at {time}: everything on it has been handed over."
            ).format(time=local_time(used_at, ZoneInfo(timezone)))
        case errors.CodesPaused(minutes=minutes):
            return ngettext(
                "Too many wrong pickup codes in a minute: /pickup and /undo are paused for "
                "{minutes} more minute. The platform admins have been told.",
                "Too many wrong pickup codes in a minute: /pickup and /undo are paused for "
                "{minutes} more minutes. The platform admins have been told.",
                minutes,
            ).format(minutes=minutes)
        case errors.GoodsNotArrived(items=items):
            return _(
                "Not yet: the goods for this code have not been confirmed as arrived ({items}). "
                "The leader confirms them with /arrived."
            ).format(items=esc(", ".join(items)))
        case errors.NothingToHandOver():
            return _("Nothing is left to hand over against this code.")
        case errors.NothingToUndo():
            return _("There is no handover to undo for this code.")
        case errors.UndoTooLate(used_at=used_at, timezone=timezone):
            return _(
                "Too late to undo: that handover was at {time}, more than an hour ago."
            ).format(time=local_time(used_at, ZoneInfo(timezone)))
        case BadPointField(key=key, limit=None):
            return _(
                "Unknown field “{key}”. Fields: province, city, district, address, location, "
                "hours, contact, phone, route, region, notes, link."
            ).format(key=quote(key))
        case BadPointField(key=key, limit=limit):
            return _("The {key} is too long: {limit} characters at most.").format(
                key=quote(key), limit=limit
            )
    return None
