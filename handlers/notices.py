"""How each kind of queued message reads (see `bot.services.kernel.outbox.Kind`).

The sender calls the renderer at sending time, in the recipient's language at that moment: a
group's community language, or a resident's own. Pickup codes only ever appear in private kinds.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.delivery.sender import Part, Unrenderable
from bot.formatting import (
    day,
    esc,
    item_label,
    local_time,
    mention,
    money,
    progress,
    split_message,
    time_left,
    utf16_len,
)
from bot.i18n import Catalogs, private_language
from bot.services.community import broadcasts
from bot.services.kernel.clock import utcnow
from bot.services.kernel.outbox import Kind, OutboxItem, Recipient
from bot.services.kernel.views import ItemView
from bot.services.ordering import drops
from bot.services.ordering.live_posts import LivePost
from bot.services.pickup.point import PickupPoint
from handlers import texts
from handlers.admin.keyboards import decide_buttons, stop_broadcast
from handlers.keyboards import join_button, start_keyboard
from models import GroupBuyState

# One drop post message: its items' text (leaving the header room under Telegram's 4096), and its
# Join buttons. Longer drops go out in several messages.
POST_LIMIT = 3500
POST_ITEMS = 40
ITEM_ROOM = 140  # an item's line besides its name and unit, at its longest (any language)


class NoticeRenderer:
    def __init__(self, catalogs: Catalogs, settings: Settings, bot_username: str) -> None:
        self.catalogs = catalogs
        self.settings = settings
        self.bot_username = bot_username

    def locale(self, private: bool, recipient: Recipient) -> str:
        default = self.settings.default_language
        if not private:
            return recipient.community_language or default
        return private_language(recipient.language, recipient.tg_language, default)

    async def __call__(
        self, session: AsyncSession, items: Sequence[OutboxItem], recipient: Recipient
    ) -> list[Part]:
        locale = self.locale(items[0].user_id is not None, recipient)
        with self.catalogs.context(), self.catalogs.use_locale(locale):
            return await self._render(session, items, recipient)

    async def _render(
        self, session: AsyncSession, items: Sequence[OutboxItem], recipient: Recipient
    ) -> list[Part]:
        item = items[0]
        payload = item.payload
        match item.kind:
            case Kind.DROP_POST:
                return await self._drop_post(session, payload["post_id"])
            case Kind.CLOSED:
                return self._parts(self._closed(payload))
            case Kind.CLOSED_GROUP:
                return self._parts(self._closed_group(payload))
            case Kind.READY:
                return self._parts(self._ready(payload, reminder=False))
            case Kind.REMINDER:
                return self._parts(self._ready(payload, reminder=True))
            case Kind.UNREACHABLE:
                return [self._unreachable(items)]
            case Kind.BROADCAST:
                return self._parts("📢 " + esc(payload["text"]))
            case Kind.BROADCAST_REPORT:
                progress = await broadcasts.report(session, payload["broadcast_id"])
                text = texts.broadcast_status(progress, utcnow())
                return [Part(text, None, progress.status_message_id)]
            case Kind.ADMIN_ALERT:
                return self._parts(self._admin_alert(items))
            case Kind.NUDGE:
                return self._parts(self._nudge(payload))
            case Kind.SHORT:
                return self._parts(self._short(payload))
            case Kind.PAYOUT:
                return self._parts(self._payout(payload))
            case Kind.AFTER_SALE:
                return self._after_sale(payload)
            case Kind.DECISION:
                return self._parts(self._decision(payload))
        raise Unrenderable(f"unknown kind {item.kind}")

    @staticmethod
    def _parts(text: str) -> list[Part]:
        return [Part(part) for part in split_message(text)]

    async def _drop_post(self, session: AsyncSession, post_id: int) -> list[Part]:
        view = await drops.post_view(session, post_id)
        if view is None:
            raise Unrenderable(f"drop post {post_id} has no items")
        return self._post_parts(view, utcnow())

    def live_post(self, live: LivePost) -> list[Part] | None:
        """The post's messages as they should read now, each editing its own message; None if
        the post no longer fits the messages it went out in."""
        with self.catalogs.context(), self.catalogs.use_locale(live.language):
            parts = self._post_parts(live.view, utcnow())
        if len(parts) != len(live.message_ids):
            return None
        return [
            Part(part.text, part.markup, message_id)
            for part, message_id in zip(parts, live.message_ids, strict=True)
        ]

    def _post_parts(self, view: drops.PostView, now: datetime) -> list[Part]:
        # A long drop goes out in several messages, each with the Join buttons of its own items.
        parts = []
        for chunk in post_chunks(view.items):
            text = texts.drop_post(_subset(view, chunk), now, self.settings.currency)
            markup = InlineKeyboardMarkup(
                inline_keyboard=[
                    [join_button(item.group_buy_id, item.number, item.name)]
                    for item in chunk
                    if item.state is GroupBuyState.OPEN
                ]
            )
            parts.append(Part(text, markup if markup.inline_keyboard else None))
        return parts

    def _closed(self, payload: dict[str, Any]) -> str:
        currency = self.settings.currency
        out = [
            _("⏰ <b>{community}</b>: your group-buys have closed.").format(
                community=esc(payload["community"])
            )
        ]
        for group in payload["formed"]:
            out.append("")
            out.append(
                _("✅ <b>Formed</b> — pickup on {day}:").format(
                    day=day(date.fromisoformat(group["pickup_date"]))
                )
            )
            for line in group["items"]:
                bullet = texts.bullet(line["number"], line["name"], line["quantity"], line["unit"])
                out.append(f"{bullet} · {money(line['amount'], currency)}")
            out.append(_("🔑 Your pickup code: <code>{code}</code>").format(code=group["code"]))
        if payload["formed"]:
            out.append(
                _(
                    "Show the code at {point} on the pickup day. "
                    "I will tell you when the goods have arrived. Keep it private."
                ).format(point=texts.point(_point(payload)))
            )
        if payload["failed"]:
            out.append("")
            out.append(_("❌ <b>Did not form</b> — nothing is owed:"))
            for line in payload["failed"]:
                out.append(
                    f"• {item_label(line['number'], line['name'])} "
                    f"({progress(line['members'], line['min_members'])})"
                )
        return "\n".join(out)

    def _closed_group(self, payload: dict[str, Any]) -> str:
        out = [_("⏰ <b>Closed</b>")]
        formed = False
        for line in payload["items"]:
            label = item_label(line["number"], line["name"])
            counted = progress(line["members"], line["min_members"])
            if line["formed"]:
                formed = True
                out.append(_("✅ {item} formed ({progress})").format(item=label, progress=counted))
            else:
                out.append(
                    _("❌ {item} did not form ({progress})").format(item=label, progress=counted)
                )
        if formed:
            out.append(_("Buyers get their pickup codes from me privately."))
        return "\n".join(out)

    def _ready(self, payload: dict[str, Any], reminder: bool) -> str:
        head = (
            _("⏰ <b>Reminder</b>: your goods are waiting at {community}.")
            if reminder
            else _("📦 <b>Your goods are ready</b> at {community}!")
        ).format(community=esc(payload["community"]))
        items = "\n".join(
            texts.bullet(line["number"], line["name"], line["quantity"], line["unit"])
            for line in payload["items"]
        )
        return "\n".join(
            [
                head,
                _("📍 {point}").format(point=texts.point(_point(payload))),
                items,
                _("🔑 Pickup code: <code>{code}</code> (pickup day {day})").format(
                    code=payload["code"], day=day(date.fromisoformat(payload["pickup_date"]))
                ),
            ]
        )

    @staticmethod
    def _nudge(payload: dict[str, Any]) -> str:
        deadline = datetime.fromisoformat(payload["deadline"])
        now = utcnow()
        out = [
            _("⏳ Closes {deadline} ({left}) — still short:").format(
                deadline=local_time(deadline, ZoneInfo(payload["timezone"]), now),
                left=time_left(deadline, now),
            )
        ]
        for line in payload["items"]:
            out.append(
                ngettext(
                    "• {item}: {more} more member needed",
                    "• {item}: {more} more members needed",
                    line["more"],
                ).format(item=item_label(line["number"], line["name"]), more=line["more"])
            )
        out.append(_("Tap Join on the post above, or send <code>/join n</code>."))
        return "\n".join(out)

    def _short(self, payload: dict[str, Any]) -> str:
        out = [
            _("😔 <b>{community}</b>: some goods did not arrive.").format(
                community=esc(payload["community"])
            )
        ]
        for line in payload["items"]:
            label = item_label(line["number"], line["name"])
            if line["kept"]:
                out.append(
                    _("• {item}: {short} of your {quantity} missing; you get {kept}.").format(
                        item=label,
                        short=line["short"],
                        quantity=line["quantity"],
                        kept=line["kept"],
                    )
                )
            else:
                out.append(
                    _("• {item}: none of your {quantity} arrived.").format(
                        item=label, quantity=line["quantity"]
                    )
                )
        out.append(
            _("Nothing is owed for what is missing ({amount}).").format(
                amount=money(payload["refund"], self.settings.currency)
            )
        )
        return "\n".join(out)

    def _after_sale(self, payload: dict[str, Any]) -> list[Part]:
        """To an admin: the request, its photos as an album, then Approve / Reject."""
        head = (
            _("↩️ <b>Return request</b> {id}")
            if payload["kind"] == "return"
            else _("🚫 <b>Cancellation request</b> {id}")
        ).format(id=payload["request_id"])
        out = [
            head,
            _("{resident} in {community}: {item} (pickup {day}), {amount}").format(
                resident=mention(payload["resident_id"], payload["resident"]),
                community=esc(payload["community"]),
                item=texts.bullet(
                    payload["number"], payload["name"], payload["quantity"], payload["unit"]
                ).removeprefix("• "),
                day=day(date.fromisoformat(payload["pickup_date"])),
                amount=money(payload["amount"], self.settings.currency),
            ),
        ]
        if payload.get("reason"):
            out.append(_("Problem: {reason}").format(reason=esc(payload["reason"])))
        parts = [Part("", photos=tuple(payload["photos"]))] if payload.get("photos") else []
        text = "\n".join(out)
        return [*parts, Part(text, decide_buttons(payload["request_id"]))]

    def _decision(self, payload: dict[str, Any]) -> str:
        item = item_label(payload["number"], payload["name"])
        amount = money(payload["amount"], self.settings.currency)
        if payload["kind"] == "cancel":
            if payload["approved"]:
                return _(
                    "✅ Your cancellation of {item} was approved: nothing is owed ({amount})."
                ).format(item=item, amount=amount)
            return _("❌ Your cancellation of {item} was not approved: the order stands.").format(
                item=item
            )
        if payload["approved"]:
            return _(
                "✅ Your return of {item} was approved: {amount} will be refunded; "
                "its points were taken back."
            ).format(item=item, amount=amount)
        return _(
            "❌ Your return of {item} was not approved. Ask your leader if you want to know why."
        ).format(item=item)

    def _payout(self, payload: dict[str, Any]) -> str:
        currency = self.settings.currency
        return _(
            "💸 The platform paid you {amount} of commission for {community}. Unsettled now: {left}."
        ).format(
            amount=money(payload["amount"], currency),
            community=esc(payload["community"]),
            left=money(payload["unsettled"], currency),
        )

    def _unreachable(self, items: Sequence[OutboxItem]) -> Part:
        people = {item.payload["user_id"]: item.payload["name"] for item in items}
        names = ", ".join(mention(user_id, name) for user_id, name in people.items())
        text = _(
            "📬 {names}: I have private messages for you (like your pickup code) but cannot "
            "write to you yet. Tap the button and press Start, and I will send them at once."
        ).format(names=names)
        return Part(text, start_keyboard(self.bot_username, "codes"))

    def _admin_alert(self, items: Sequence[OutboxItem]) -> str:
        out = [
            ngettext(
                "⚠️ Telegram refused {count} message as malformed; it was not sent:",
                "⚠️ Telegram refused {count} messages as malformed; they were not sent:",
                len(items),
            ).format(count=len(items))
        ]
        for item in items[:20]:
            out.append(
                "• {kind} → {chat}: {error}".format(
                    kind=esc(item.payload["kind"]),
                    chat=item.payload["chat_id"],
                    error=esc(item.payload["error"]),
                )
            )
        if len(items) > 20:
            out.append(
                _("…and {count} more. /status shows the latest.").format(count=len(items) - 20)
            )
        return "\n".join(out)

    async def broadcast_progress(
        self, session: AsyncSession, progress: broadcasts.Progress, recipient: Recipient
    ) -> Part:
        """The admin's status message while a broadcast goes out (see BroadcastMonitor)."""
        with self.catalogs.context(), self.catalogs.use_locale(self.locale(True, recipient)):
            text = texts.broadcast_status(progress, utcnow())
            return Part(text, stop_broadcast(progress.broadcast_id), progress.status_message_id)


def _point(payload: dict[str, Any]) -> PickupPoint:
    # Notices queued before the record existed carry free text under "pickup_point".
    return PickupPoint.from_payload(payload.get("point") or payload.get("pickup_point"))


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


def _subset(view: drops.PostView, items: list[ItemView]) -> drops.PostView:
    return drops.PostView(
        view.community, view.timezone, view.point, view.deadline, view.pickup_date, items
    )
