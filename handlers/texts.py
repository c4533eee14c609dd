"""Wording shared by replies and notices: join progress, order states in words, codes, items."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import gettext as _

from bot.formatting import (
    coarse_time_left,
    day,
    esc,
    item_label,
    local_time,
    money,
    progress,
    quantity,
    time_left,
)
from bot.services.community.broadcasts import Progress
from bot.services.kernel.views import ItemView
from bot.services.ordering.drops import DropPreview, PostView
from bot.services.ordering.joins import CancelResult, JoinResult, OrderView
from bot.services.pickup.handover import CodeView, Line
from bot.services.pickup.point import PickupPoint
from models import GroupBuyState, OrderState


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


def line(item: Line) -> str:
    return bullet(item.number, item.name, item.quantity, item.unit)


def bullet(number: int, name: str, amount: int, unit: str | None) -> str:
    return f"• {item_label(number, name)} {quantity(amount, unit)}"


def lines(items: Sequence[Line]) -> str:
    return "\n".join(line(item) for item in items)


def price(amount: int, unit: str | None, currency: str) -> str:
    text = money(amount, currency)
    return f"{text} / {esc(unit)}" if unit else text


def join_reply(result: JoinResult, tz: ZoneInfo, now: datetime) -> str:
    """The group reply to /join: who joined, their sequence number, the item's progress."""
    if result.new_member:
        head = _("✅ No. {seq} joined {item} {qty}.").format(
            seq=result.seq,
            item=item_label(result.number, result.name),
            qty=quantity(result.quantity, result.unit),
        )
    else:
        head = _("✅ Added {added} to {item}: now {qty}.").format(
            added=result.added,
            item=item_label(result.number, result.name),
            qty=quantity(result.quantity, result.unit),
        )
    return head + "\n" + status(result.members, result.min_members, result.deadline, tz, now)


def join_toast(result: JoinResult, now: datetime) -> str:
    """The Join button's answer: plain text, at most 200 characters."""
    name = result.name if len(result.name) <= 40 else result.name[:39] + "…"
    if result.new_member:
        text = _("✅ Joined #{number} {name} ×{qty}: you are No. {seq}.").format(
            number=result.number, name=name, qty=result.quantity, seq=result.seq
        )
    else:
        text = _("✅ #{number} {name}: you now have ×{qty}.").format(
            number=result.number, name=name, qty=result.quantity
        )
    remaining = max(result.min_members - result.members, 0)
    if remaining:
        text += " " + _("{more} more needed, {left}.").format(
            more=remaining, left=time_left(result.deadline, now)
        )
    else:
        text += " " + _("It will form! {left}.").format(left=time_left(result.deadline, now))
    return text


def cancel_reply(result: CancelResult, tz: ZoneInfo, now: datetime) -> str:
    return (
        _("↩️ You left {item} (×{qty}); nothing is owed.").format(
            item=item_label(result.number, result.name), qty=result.quantity
        )
        + "\n"
        + status(result.members, result.min_members, result.deadline, tz, now)
    )


def status(members: int, minimum: int, deadline: datetime, tz: ZoneInfo, now: datetime) -> str:
    return _("👥 {progress} · ⏰ closes {deadline} ({left})").format(
        progress=progress(members, minimum),
        deadline=local_time(deadline, tz, now),
        left=time_left(deadline, now),
    )


def item_block(
    item: ItemView, currency: str, closes: tuple[ZoneInfo, datetime] | None = None
) -> str:
    """An item on a drop post or in /today: its price, progress, limits, and (with `closes`, the
    community's zone and now) its deadline."""
    details = [progress(item.members, item.min_members)]
    if item.purchase_limit:
        details.append(_("limit {limit}").format(limit=item.purchase_limit))
    if item.stock_left is not None:
        details.append(_("{left} left").format(left=item.stock_left))
    if not item.returnable:
        details.append(_("no returns"))
    if item.state in (GroupBuyState.FORMED, GroupBuyState.ARRIVED):
        details.append(_("formed ✅"))
    elif item.state is GroupBuyState.FAILED:
        details.append(_("did not form ❌"))
    if closes is not None:
        tz, now = closes
        details.append(
            _("closes {deadline} ({left})").format(
                deadline=local_time(item.deadline, tz, now), left=time_left(item.deadline, now)
            )
        )
    return (
        f"{item_label(item.number, item.name)} — {price(item.price, item.unit, currency)}\n"
        f"    {' · '.join(details)}"
    )


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
    return str(order.state)


def my_orders(orders: Sequence[OrderView], now: datetime, currency: str) -> str:
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


def code_block(code: CodeView) -> str:
    ready = all(item.state is OrderState.READY for item in code.items)
    head = _("🔑 <b>{code}</b> — {community}, pickup {day}").format(
        code=code.code, community=esc(code.community), day=day(code.pickup_date)
    )
    where = _("📍 {point}").format(point=point(code.point))
    state = (
        _("Ready now: show this code at the pickup point.")
        if ready
        else _("Not all goods have arrived yet; you will be told when they are ready.")
    )
    body = "\n".join(
        line(item) + ("" if item.state is OrderState.READY else " " + _("(on its way)"))
        for item in code.items
    )
    return f"{head}\n{where}\n{body}\n{state}"


def preview(drop: DropPreview, tz: ZoneInfo, now: datetime, currency: str) -> str:
    if drop.deadline.after is not None:
        deadline = _("{spec} after posting (e.g. {example})").format(
            spec=drop.deadline.spec, example=local_time(drop.example_deadline, tz, now)
        )
    else:
        deadline = _("{spec} local time in each community").format(spec=drop.deadline.spec)
    if drop.pickup.on is not None:
        pickup = day(drop.pickup.on)
    elif drop.pickup.relative == "today":
        pickup = _("the day it is posted (e.g. {example})").format(example=day(drop.example_pickup))
    elif drop.pickup.relative == "tomorrow":
        pickup = _("the day after posting (e.g. {example})").format(
            example=day(drop.example_pickup)
        )
    else:
        pickup = _("the day after the deadline (e.g. {example})").format(
            example=day(drop.example_pickup)
        )
    out = [
        _("📝 <b>Draft drop {drop_id}</b>").format(drop_id=drop.drop_id),
        _("⏰ Deadline: {deadline}").format(deadline=deadline),
        _("📦 Pickup: {pickup}").format(pickup=pickup),
        "",
    ]
    for number, item in enumerate(drop.items, start=1):
        details = [_("min {minimum}").format(minimum=item.min_members)]
        details.append(
            _("limit {limit}").format(limit=item.purchase_limit)
            if item.purchase_limit
            else _("no limit")
        )
        details.append(
            _("stock {stock}").format(stock=item.stock) if item.stock else _("unlimited stock")
        )
        if not item.returnable:
            details.append(_("no returns"))
        if not item.earns_points:
            details.append(_("no points"))
        out.append(
            f"{item_label(number, item.name)} — {price(item.price, item.unit, currency)}\n"
            f"    {' · '.join(details)}"
        )
    out += [
        "",
        _("Publish now: <code>/publish {drop_id}</code>").format(drop_id=drop.drop_id),
        _("Or at a local time: <code>/publish {drop_id} 18:00</code>").format(drop_id=drop.drop_id),
        _("Item numbers in each group are given when the drop is posted there."),
    ]
    return "\n".join(out)


def drop_post(view: PostView, now: datetime, currency: str) -> str:
    """A drop post as it stands: kept current by edits (see bot.delivery.post_refresher), so its time
    left is coarse (it changes every few minutes, not every second) and, once every item has
    closed, it shows the outcome instead."""
    tz = ZoneInfo(view.timezone)
    still_open = any(item.state is GroupBuyState.OPEN for item in view.items)
    when = _("⏰ Closes {deadline} ({left}) · 📦 pickup {day}") if still_open else None
    out = [
        _("🛒 <b>Group-buy</b> · {community}").format(community=esc(view.community)),
        (when or _("⏰ Closed {deadline} · 📦 pickup {day}")).format(
            deadline=local_time(view.deadline, tz, now),
            left=coarse_time_left(view.deadline, now),
            day=day(view.pickup_date),
        ),
        "",
    ]
    out += [item_block(item, currency) for item in view.items]
    if still_open:
        out += ["", _("Tap a button to join, or send <code>/join n [qty]</code>.")]
    else:
        out += ["", _("Buyers of formed items have their pickup codes from me privately.")]
    return "\n".join(out)


def broadcast_status(progress: Progress, now: datetime) -> str:
    """The admin's status message: progress while it goes out, the report once it is done."""
    if progress.finished:
        head = (
            _(
                "📢 Broadcast {id} stopped: {sent} of {total} sent, {failed} failed, {cancelled} not sent."
            )
            if progress.stopped_at
            else _("📢 Broadcast {id} finished: {sent} of {total} sent, {failed} failed.")
        )
    else:
        head = _("📢 Broadcast {id}: {sent} of {total} sent, {failed} failed…")
    out = [
        head.format(
            id=progress.broadcast_id,
            sent=progress.sent,
            total=progress.total,
            failed=progress.failed,
            cancelled=progress.cancelled,
        )
    ]
    left = progress.time_left(now)
    if not progress.finished and left is not None:
        out.append(_("About {seconds}s left.").format(seconds=max(1, int(left.total_seconds()))))
    out += [f"• {esc(name)}: {esc(error)}" for name, error in progress.failures]
    return "\n".join(out)


def rate(basis_points: int) -> str:
    """A commission rate: 1000 → "10%", 850 → "8.5%"."""
    return f"{basis_points / 100:g}%"


def ledger_reason(reason: str) -> str | None:
    """Why an entry of the books is there, when it is not a plain pickup."""
    return {"undo": _("handover undone"), "return": _("returned")}.get(reason)
