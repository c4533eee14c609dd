"""How each kind of queued message reads (see `bot.services.outbox.Kind`).

The sender calls the renderer at sending time, in the recipient's language at that moment: a
group's community language, or a resident's own. Pickup codes only ever appear in private kinds.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.delivery.sender import Part, Unrenderable
from bot.formatting import day, esc, item_label, mention, money, progress, split_message
from bot.i18n import Catalogs, private_language
from bot.services import broadcasts, drops
from bot.services.clock import utcnow
from bot.services.outbox import Kind, OutboxItem, Recipient
from bot.services.views import ItemView
from handlers import texts
from handlers.admin.keyboards import stop_broadcast
from handlers.keyboards import join_button, start_keyboard

POST_LIMIT = 3800  # characters of one drop post message; longer drops go out in several


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
        raise Unrenderable(f"unknown kind {item.kind}")

    @staticmethod
    def _parts(text: str) -> list[Part]:
        return [Part(part) for part in split_message(text)]

    async def _drop_post(self, session: AsyncSession, post_id: int) -> list[Part]:
        view = await drops.post_view(session, post_id)
        if view is None:
            raise Unrenderable(f"drop post {post_id} has no items")
        now = utcnow()
        # A long drop goes out in several messages, each with the Join buttons of its own items.
        parts: list[Part] = []
        chunk: list[ItemView] = []
        for post_item in view.items:
            candidate = [*chunk, post_item]
            text = texts.drop_post(_subset(view, candidate), now, self.settings.currency)
            if chunk and (len(text) > POST_LIMIT or len(candidate) > 50):
                parts.append(self._post_part(view, chunk, now))
                chunk = [post_item]
            else:
                chunk = candidate
        parts.append(self._post_part(view, chunk, now))
        return parts

    def _post_part(self, view: drops.PostView, chunk: list[ItemView], now: datetime) -> Part:
        text = texts.drop_post(_subset(view, chunk), now, self.settings.currency)
        markup = InlineKeyboardMarkup(
            inline_keyboard=[
                [join_button(item.group_buy_id, item.number, item.name)]
                for item in chunk
                if item.state.value == "open"
            ]
        )
        return Part(text, markup if markup.inline_keyboard else None)

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
                ).format(point=texts.point(payload["pickup_point"]))
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
                _("📍 {point}").format(point=texts.point(payload["pickup_point"])),
                items,
                _("🔑 Pickup code: <code>{code}</code> (pickup day {day})").format(
                    code=payload["code"], day=day(date.fromisoformat(payload["pickup_date"]))
                ),
            ]
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


def _subset(view: drops.PostView, items: list[ItemView]) -> drops.PostView:
    return drops.PostView(
        view.community, view.timezone, view.pickup_point, view.deadline, view.pickup_date, items
    )
