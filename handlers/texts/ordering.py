"""Drops, drop posts, joins, closing, nudges and shortages; and their refusals."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from bot.formatting import (
    clip,
    coarse_time_left,
    day,
    esc,
    item_label,
    local_time,
    mention,
    money,
    progress,
    quantity,
    quote,
    time_left,
    utf16_len,
)
from bot.services.kernel import errors
from bot.services.kernel.views import ItemView
from bot.services.notices import (
    ClosedGroupNotice,
    ClosedNotice,
    GroupAckNotice,
    NudgeNotice,
    ShortNotice,
)
from bot.services.ordering.drop_format import DropFormatError, Problem
from bot.services.ordering.drops import DropPreview, PostView
from bot.services.ordering.item_media import ItemDetails, ItemMedia
from bot.services.ordering.joins import CancelResult, JoinResult
from handlers.texts.common import bullet, price
from handlers.texts.pickup import show_code_at, your_code
from models import PHOTOS_PER_ITEM, GroupBuyState

# One drop post message: its items' text (leaving the header room under Telegram's 4096), and its
# Join buttons. Longer drops go out in several messages.
POST_LIMIT = 3500
POST_ITEMS = 40
ITEM_ROOM = 250  # an item's lines besides its name and unit, at their longest (any language)
JOINER_NAME = 12  # characters of a member's name on the post's 接龙 list
TOAST_NAME = 40  # characters of an item's name in a Join button's answer (200 at most in all)
# A drop post as a picture's caption (Telegram: 1,024 characters): its header and footer, and an
# item's lines besides its name and unit, at their longest.
CAPTION_LIMIT = 1024
CAPTION_FRAME = 260
CAPTION_ITEM_ROOM = 150

DROP_FORMAT = (
    "/drop [deadline=HH:MM|+2h] [min=N] [limit=N] [pickup=YYYY-MM-DD|today|tomorrow] "
    "[pay=now|pickup]\n"
    "&lt;name&gt; | &lt;price&gt; [| &lt;unit&gt;] [| min=N] [| limit=N] [| stock=N] "
    "[| return=48h] [| noreturn] [| nopoints] [| desc=…]"
)


# -- Joining and leaving ----------------------------------------------------------------------


def status(members: int, minimum: int, deadline: datetime, tz: ZoneInfo, now: datetime) -> str:
    return _("👥 {progress} · ⏰ closes {deadline} ({left})").format(
        progress=progress(members, minimum),
        deadline=local_time(deadline, tz, now),
        left=time_left(deadline, now),
    )


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
    name = clip(result.name, TOAST_NAME)
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


def cancel_reply(result: CancelResult, tz: ZoneInfo, now: datetime, currency: str) -> str:
    item = item_label(result.number, result.name)
    if result.refund:
        head = _("↩️ You left {item} (×{qty}); your {amount} will be refunded.").format(
            item=item, qty=result.quantity, amount=money(result.refund, currency)
        )
    elif result.reserved:
        head = _("↩️ You let go of your reservation of {item} (×{qty}); nothing is owed.").format(
            item=item, qty=result.quantity
        )
    else:
        head = _("↩️ You left {item} (×{qty}); nothing is owed.").format(
            item=item, qty=result.quantity
        )
    return head + "\n" + status(result.members, result.min_members, result.deadline, tz, now)


# -- Items, drafts and drop posts ---------------------------------------------------------------


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
    block = (
        f"{item_label(item.number, item.name)} — {price(item.price, item.unit, currency)}\n"
        f"    {' · '.join(details)}"
    )
    if item.latest and item.state is GroupBuyState.OPEN:
        block += "\n    🙋 " + " · ".join(
            _("No. {seq} {name}").format(seq=joiner.seq, name=quote(joiner.name, JOINER_NAME))
            + (f" ×{joiner.quantity}" if joiner.quantity > 1 else "")
            for joiner in item.latest
        )
    return block


def draft_preview(drop: DropPreview, tz: ZoneInfo, now: datetime, currency: str) -> str:
    """The admin's preview of a draft drop."""
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
        (
            _("💳 Paid in advance: a join holds the item {minutes} min for its payment.").format(
                minutes=drop.pay_within
            )
            if drop.pay_within
            else _("💵 Paid at pickup.")
        ),
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
        photos = drop.photos.get(number, 0)
        if photos:
            details.append(
                ngettext("📷 {count} photo", "📷 {count} photos", photos).format(count=photos)
            )
        line = (
            f"{item_label(number, item.name)} — {price(item.price, item.unit, currency)}\n"
            f"    {' · '.join(details)}"
        )
        if item.description:
            line += "\n    📝 " + quote(item.description, 60)
        out.append(line)
    out += [
        "",
        _("Photos: send them captioned with the item number, like #2 (up to 5 an item)."),
        _("Publish now: <code>/publish {drop_id}</code>").format(drop_id=drop.drop_id),
        _("Or at a local time: <code>/publish {drop_id} 18:00</code>").format(drop_id=drop.drop_id),
        _("Item numbers in each group are given when the drop is posted there."),
    ]
    return "\n".join(out)


def drop_post(view: PostView, now: datetime, currency: str) -> str:
    """A drop post as it stands: kept current by edits (see bot.delivery.post_refresher), so its
    time left is coarse (it changes every few minutes, not every second) and, once every item has
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
    if still_open and view.prepaid:
        out += ["", _("Tap a button to join, or send <code>/join n [qty]</code>; pay privately.")]
    elif still_open:
        out += ["", _("Tap a button to join, or send <code>/join n [qty]</code>.")]
    else:
        out += ["", _("Buyers of formed items have their pickup codes from me privately.")]
    return "\n".join(out)


def fits_caption(items: Sequence[ItemView]) -> bool:
    """Whether the post fits under its picture, however it changes (like `post_chunks`, on what
    never changes)."""
    size = CAPTION_FRAME + sum(
        utf16_len(item.name) + utf16_len(item.unit or "") + CAPTION_ITEM_ROOM for item in items
    )
    return size <= CAPTION_LIMIT


def post_chunks(items: Sequence[ItemView]) -> list[list[ItemView]]:
    """Which items share a message. It depends only on what never changes (names and units, with
    room for the longest progress and outcome), so every later edit of a live post has exactly the
    messages it went out in."""
    chunks: list[list[ItemView]] = [[]]
    size = 0
    for item in items:
        cost = utf16_len(item.name) + utf16_len(item.unit or "") + ITEM_ROOM
        if chunks[-1] and (size + cost > POST_LIMIT or len(chunks[-1]) >= POST_ITEMS):
            chunks.append([])
            size = 0
        chunks[-1].append(item)
        size += cost
    return chunks


# -- Notices --------------------------------------------------------------------------------


def closed(notice: ClosedNotice, currency: str) -> str:
    """Private: your group-buys closed; per pickup day, what formed and your code; what failed."""
    out = [
        _("⏰ <b>{community}</b>: your group-buys have closed.").format(
            community=esc(notice.community)
        )
    ]
    for group in notice.formed:
        out.append("")
        out.append(_("✅ <b>Formed</b> — pickup on {day}:").format(day=day(group.pickup_date)))
        for line in group.items:
            item = bullet(line.number, line.name, line.quantity, line.unit)
            out.append(f"{item} · {money(line.amount, currency)}")
        out.append(your_code(group.code))
    if notice.formed:
        out.append(show_code_at(notice.where))
    if notice.failed:
        out.append("")
        out.append(_("❌ <b>Did not form</b> — nothing is owed:"))
        for line in notice.failed:
            out.append(
                f"• {item_label(line.number, line.name)} "
                f"({progress(line.members, line.min_members)})"
            )
    return "\n".join(out)


def closed_group(notice: ClosedGroupNotice) -> str:
    """The group: which items formed."""
    out = [_("⏰ <b>Closed</b>")]
    formed = False
    for line in notice.items:
        label = item_label(line.number, line.name)
        counted = progress(line.members, line.min_members)
        if line.formed:
            formed = True
            out.append(_("✅ {item} formed ({progress})").format(item=label, progress=counted))
        else:
            out.append(
                _("❌ {item} did not form ({progress})").format(item=label, progress=counted)
            )
    if formed:
        out.append(_("Buyers get their pickup codes from me privately."))
    return "\n".join(out)


def nudge(notice: NudgeNotice, now: datetime) -> str:
    """The group: items still short of their minimum, near the deadline."""
    out = [
        _("⏳ Closes {deadline} ({left}) — still short:").format(
            deadline=local_time(notice.deadline, ZoneInfo(notice.timezone), now),
            left=time_left(notice.deadline, now),
        )
    ]
    for line in notice.items:
        out.append(
            ngettext(
                "• {item}: {more} more member needed",
                "• {item}: {more} more members needed",
                line.more,
            ).format(item=item_label(line.number, line.name), more=line.more)
        )
    out.append(_("Tap Join on the post above, or send <code>/join n</code>."))
    return "\n".join(out)


def short(notice: ShortNotice, currency: str) -> str:
    """Private: part of your order did not arrive, and is not owed."""
    out = [
        _("😔 <b>{community}</b>: some goods did not arrive.").format(
            community=esc(notice.community)
        )
    ]
    for line in notice.items:
        label = item_label(line.number, line.name)
        if line.kept:
            out.append(
                _("• {item}: {short} of your {quantity} missing; you get {kept}.").format(
                    item=label, short=line.short, quantity=line.quantity, kept=line.kept
                )
            )
        else:
            out.append(
                _("• {item}: none of your {quantity} arrived.").format(
                    item=label, quantity=line.quantity
                )
            )
    if notice.paid_back:
        out.append(
            _(
                "You paid for it in advance: {amount} will be refunded; I will tell you when it "
                "is done."
            ).format(amount=money(notice.paid_back, currency))
        )
    else:
        out.append(
            _("Nothing is owed for what is missing ({amount}).").format(
                amount=money(notice.refund, currency)
            )
        )
    return "\n".join(out)


def group_acks(notices: Sequence[GroupAckNotice]) -> str:
    """To a group: typed joins and cancels of members the bot cannot write to yet, together."""
    out = [_("📋 Confirmed here, as I cannot write to you privately yet:")]
    for ack in notices:
        who = mention(ack.user_id, ack.name)
        item = item_label(ack.number, ack.item)
        line = {
            "joined": _("✅ {who}: No. {seq}, {item} ×{quantity}"),
            "added": _("➕ {who}: {item}, now ×{quantity}"),
            "left": _("↩️ {who} left {item}; nothing is owed"),
            "asked": _("📨 {who} asked to leave {item}: the admins decide"),
            "reserved": _("🕒 {who}: {item} ×{quantity} held; pay privately to join"),
        }.get(ack.action, "{who}: {item}")
        out.append(line.format(who=who, seq=ack.seq, item=item, quantity=ack.quantity))
    out.append(_("🔑 Tap the button and press Start: your pickup codes come there."))
    return "\n".join(out)


# -- Refusals -------------------------------------------------------------------------------


def _closed(error: errors.ItemClosed) -> str:
    label = item_label(error.number, error.name)
    return {
        "open": _("{item} has reached its deadline and is closing now."),
        "formed": _("{item} is closed: it formed, and joining has ended."),
        "failed": _("{item} is closed: it did not form."),
        "arrived": _("{item} is closed: its goods have already arrived."),
        "scheduled": _("{item} is not open yet."),
    }.get(error.state, _("{item} is closed.")).format(item=label)


def _drop_format(error: DropFormatError) -> str:
    value = quote(error.value)
    problem = {
        Problem.NO_ITEMS: _("there are no items. Put one item on each line after /drop."),
        Problem.TOO_MANY_ITEMS: _("a drop holds at most {value} items.").format(value=value),
        Problem.BAD_HEADER: _("“{value}” is not an option. Options look like min=3.").format(
            value=value
        ),
        Problem.UNKNOWN_OPTION: _("unknown option “{value}”.").format(value=value),
        Problem.DUPLICATE_OPTION: _("the option {value} is given twice.").format(value=value),
        Problem.BAD_DEADLINE: _(
            "“{value}” is not a deadline: use HH:MM (local time) or +30m, +2h, +1d."
        ).format(value=value),
        Problem.BAD_PICKUP: _(
            "“{value}” is not a pickup date: use YYYY-MM-DD, today or tomorrow."
        ).format(value=value),
        Problem.BAD_COUNT: _("{value}: the number must be a whole number from 1 to 100000.").format(
            value=value
        ),
        Problem.BAD_RETURN_WINDOW: _(
            "{value}: the return window is hours or days, from 1h to 30d (e.g. return=48h)."
        ).format(value=value),
        Problem.MISSING_PRICE: _("“{value}” has no price. Write: name | price").format(value=value),
        Problem.BAD_PRICE: _(
            "“{value}” is not a price: use a number with at most two decimals, e.g. 12.50."
        ).format(value=value),
        Problem.EMPTY_NAME: _("the item has no name."),
        Problem.NAME_TOO_LONG: _("the name “{value}” is too long (100 characters at most).").format(
            value=value
        ),
        Problem.UNIT_TOO_LONG: _("the unit “{value}” is too long (16 characters at most).").format(
            value=value
        ),
        Problem.DESCRIPTION_TOO_LONG: _(
            "the description “{value}” is too long (500 characters at most)."
        ).format(value=value),
        Problem.BAD_PAY: _(
            "“{value}” is not a way to pay: use pay=now (in advance) or pay=pickup."
        ).format(value=value),
    }[error.problem]
    return (
        _("Line {line}: {problem}").format(line=error.line, problem=problem)
        + "\n\n"
        + _("The format is:")
        + f"\n<code>{DROP_FORMAT}</code>"
    )


def refusal(error: Exception) -> str | None:
    match error:
        case DropFormatError():
            return _drop_format(error)
        case errors.BadQuantity(maximum=maximum):
            return _("The quantity must be a whole number from 1 to {maximum}.").format(
                maximum=maximum
            )
        case errors.ItemNotFound(number=number):
            return _("There is no item #{number} here. /today lists the open items.").format(
                number=number
            )
        case errors.ItemClosed():
            return _closed(error)
        case errors.SoldOut(number=number, name=name, left=0):
            return _("Sorry, {item} is sold out.").format(item=item_label(number, name))
        case errors.SoldOut(number=number, name=name, left=left):
            return _("Only {left} of {item} are left: join with a smaller quantity.").format(
                left=left, item=item_label(number, name)
            )
        case errors.OverLimit(number=number, name=name, limit=limit, have=have):
            return _("{item} is limited to {limit} per resident; you have {have}.").format(
                item=item_label(number, name), limit=limit, have=have
            )
        case errors.NotJoined(number=number, name=name):
            return _("You have not joined {item}.").format(item=item_label(number, name))
        case errors.DropNotFound(drop_id=drop_id):
            return _("There is no drop {drop_id}.").format(drop_id=drop_id)
        case errors.DropAlreadyPublished(drop_id=drop_id):
            return _(
                "Drop {drop_id} was already published. Write a new /drop to post again."
            ).format(drop_id=drop_id)
        case errors.PickupBeforeDeadline(pickup_date=pickup, deadline=deadline, community=where):
            text = _(
                "The pickup date {pickup} would come before the deadline ({deadline}). "
                "Choose a later pickup date or an earlier deadline."
            ).format(pickup=day(pickup), deadline=deadline.strftime("%Y-%m-%d %H:%M UTC"))
            if where:
                text += "\n" + _("(In {community}.)").format(community=esc(where))
            return text
        case errors.ShortTooMany(number=number, name=name, available=available):
            return _(
                "Only {available} of #{number} <b>{name}</b> are still to be handed over: "
                "that is the most that can be short."
            ).format(available=available, number=number, name=esc(name))
        case errors.NoDraft():
            return _(
                "You have no draft drop to add this to. Write /drop first, then send the "
                "photos captioned with the item number, like #2."
            )
        case errors.NoSuchDraftItem(drop_id=drop_id, position=position, items=items):
            return ngettext(
                "Drop {drop_id} has no item #{number}: it has {count} item.",
                "Drop {drop_id} has no item #{number}: it has {count} items.",
                items,
            ).format(drop_id=drop_id, number=position, count=items)
        case errors.TooManyItemPhotos(position=position, limit=limit):
            return _("Item #{number} already has {limit} photos, the most it can have.").format(
                number=position, limit=limit
            )
        case errors.NotAnItemNumber():
            return _(
                "Which item is this photo for? Send it again with the item number as its "
                "caption, like #2 (and a few words to describe the item, if you like)."
            )
        case errors.ImageRefused(reason=reason):
            return {
                "not_image": _("That file is not a picture I can use: send a JPEG or PNG photo."),
                "too_big": _("That picture is over 10 MB: send a smaller one."),
                "too_large": _(
                    "That picture is too large: its width and height may add up to 10,000 "
                    "pixels at most."
                ),
                "too_narrow": _(
                    "That picture is too long and thin: one side may be at most 20 times the other."
                ),
            }.get(reason, _("That file is not a picture I can use: send a JPEG or PNG photo."))
    return None


# -- Item photos and details --------------------------------------------------------------


def item_media(media: ItemMedia) -> str:
    """What a draft's item has, after the admin added a photo or a description."""
    out = [
        ngettext(
            "📷 {item} (drop {drop_id}): {count} photo (at most {limit}).",
            "📷 {item} (drop {drop_id}): {count} photos (at most {limit}).",
            media.photos,
        ).format(
            item=item_label(media.position, media.name),
            drop_id=media.drop_id,
            count=media.photos,
            limit=PHOTOS_PER_ITEM,
        )
    ]
    if media.description:
        out.append(_("📝 {description}").format(description=esc(media.description)))
    else:
        out.append(
            _("No description yet: reply to the preview with #{number} and a few words.").format(
                number=media.position
            )
        )
    out.append(_("Publish: <code>/publish {drop_id}</code>").format(drop_id=media.drop_id))
    return "\n".join(out)


def item_details(details: ItemDetails, currency: str, now: datetime) -> str:
    """An item as a resident sees it privately: everything about it in one message."""
    item = details.item
    tz = details.community.tz
    out = [
        f"{item_label(item.number, item.name)} — {price(item.price, item.unit, currency)}",
        _("🏘 {community}").format(community=esc(details.community.name)),
    ]
    if details.description:
        out += ["", esc(details.description), ""]
    out.append(
        _("👥 {members} joined · at least {minimum} needed").format(
            members=item.members, minimum=item.min_members
        )
    )
    if item.purchase_limit:
        out.append(_("Limit {limit} per resident").format(limit=item.purchase_limit))
    if item.stock_left is not None:
        out.append(_("{left} left").format(left=item.stock_left))
    if item.state is GroupBuyState.OPEN:
        out.append(
            _("⏰ Closes {deadline} ({left})").format(
                deadline=local_time(item.deadline, tz, now), left=time_left(item.deadline, now)
            )
        )
    elif item.state is GroupBuyState.FAILED:
        out.append(_("did not form ❌"))
    else:
        out.append(_("⏰ Closed {deadline}").format(deadline=local_time(item.deadline, tz, now)))
    out.append(_("📦 Pickup {day}").format(day=day(details.pickup_date)))
    if not item.returnable:
        out.append(_("no returns"))
    return "\n".join(out)
