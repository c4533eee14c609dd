"""How each kind of queued message reads (the payloads of `bot/services/notices.py`).

The sender calls the renderer at sending time, in the recipient's language at that moment: a
group's community language, or a resident's own. The words are in `handlers/texts/`, by
subdomain; this module picks them by the payload's type and shapes the parts (text, buttons,
albums). Pickup codes only ever appear in private kinds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TypeVar

from aiogram.types import InlineKeyboardMarkup
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.formatting import money, split_message
from bot.i18n import Catalogs, private_language
from bot.parts import Invoice, NotYet, Part, Picture, Unrenderable, Venue
from bot.services.community import broadcasts
from bot.services.kernel.clock import utcnow
from bot.services.kernel.outbox import OutboxItem, Recipient
from bot.services.kernel.views import ItemView
from bot.services.notices import (
    AdminAlertNotice,
    AfterSaleNotice,
    ApplicationDecisionNotice,
    BroadcastNotice,
    BroadcastReportNotice,
    ClosedGroupNotice,
    ClosedNotice,
    CodeGuessingNotice,
    DecisionNotice,
    DropPostNotice,
    GroupAckNotice,
    InvoiceNotice,
    LapsedNotice,
    LeaderApplicationNotice,
    NudgeNotice,
    Payload,
    PayoutNotice,
    PlaceLine,
    ReadyNotice,
    RefundedNotice,
    ShortNotice,
    UnreachableNotice,
    WelcomeNotice,
)
from bot.services.ordering import drops
from bot.services.ordering.live_posts import LivePost
from bot.services.payments import checkout
from handlers.admin.keyboards import decide_application, decide_buttons, stop_broadcast
from handlers.keyboards import details_button, join_button, start_keyboard
from handlers.texts import after_sale, books, community, ordering, payments, pickup
from models import GroupBuyState

P = TypeVar("P", bound=Payload)


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
            return await self._render(session, items)

    async def _render(self, session: AsyncSession, items: Sequence[OutboxItem]) -> list[Part]:
        currency = self.settings.currency
        match items[0].payload:
            case DropPostNotice(post_id=post_id):
                return await self._drop_post(session, post_id)
            case ClosedNotice() as notice:
                return _parts(ordering.closed(notice, currency))
            case ClosedGroupNotice() as notice:
                return _parts(ordering.closed_group(notice))
            case NudgeNotice() as notice:
                return _parts(ordering.nudge(notice, utcnow()))
            case ShortNotice() as notice:
                return _parts(ordering.short(notice, currency))
            case ReadyNotice() as notice:  # and reminders
                where = [Part("", venue=_venue(notice.place))] if notice.place else []
                return [*_parts(pickup.ready(notice)), *where]
            case CodeGuessingNotice() as notice:
                return _parts(pickup.code_guessing(notice))
            case AfterSaleNotice() as notice:
                # The request, its photos as an album, then Approve / Reject.
                album = [Part("", photos=tuple(notice.photos))] if notice.photos else []
                text = after_sale.request(notice, currency)
                return [*album, Part(text, decide_buttons(notice.request_id))]
            case DecisionNotice() as notice:
                return _parts(after_sale.decision(notice, currency))
            case PayoutNotice() as notice:
                return _parts(books.payout(notice, currency))
            case BroadcastNotice(text=text):
                return _parts(community.broadcast(text))
            case BroadcastReportNotice(broadcast_id=broadcast_id):
                progress = await broadcasts.report(session, broadcast_id)
                if progress.status_message_id is None and not _late(progress.started_at):
                    # The admin's status message is being sent: the report becomes that
                    # message, not a second one.
                    raise NotYet(0.5)
                text = community.broadcast_status(progress, utcnow())
                return [Part(text, None, progress.status_message_id)]
            case GroupAckNotice():
                text = ordering.group_acks(_all(items, GroupAckNotice))
                *before, last = _parts(text)
                return [*before, Part(last.text, start_keyboard(self.bot_username, "codes"))]
            case LeaderApplicationNotice() as notice:
                text = community.application(notice)
                return [Part(text, decide_application(notice.application_id))]
            case ApplicationDecisionNotice() as notice:
                return _parts(community.application_decision(notice, self.bot_username))
            case WelcomeNotice():
                return _parts(community.welcome(_all(items, WelcomeNotice)))
            case UnreachableNotice():
                text = community.unreachable(_all(items, UnreachableNotice))
                return [Part(text, start_keyboard(self.bot_username, "codes"))]
            case AdminAlertNotice():
                return _parts(community.admin_alert(_all(items, AdminAlertNotice)))
            case InvoiceNotice(order_id=order_id):
                return [await self._invoice(session, order_id)]
            case LapsedNotice() as notice:
                return _parts(payments.lapsed(notice))
            case RefundedNotice() as notice:
                return _parts(payments.refunded(notice, currency))
        raise Unrenderable(f"no wording for {items[0].kind}")

    async def _invoice(self, session: AsyncSession, order_id: int) -> Part:
        facts = await checkout.invoice_facts(
            session, order_id, self.settings.payment_currency, utcnow()
        )
        if facts is None:
            raise Unrenderable("the reservation no longer holds")
        token = self.settings.payment_provider_token
        return Part(
            "",
            invoice=Invoice(
                title=payments.invoice_title(facts.number, facts.name),
                description=payments.invoice_description(
                    facts.community,
                    facts.name,
                    facts.quantity,
                    facts.unit,
                    money(facts.unit_price, self.settings.currency),
                    facts.pickup_date,
                ),
                payload=facts.payload,
                currency=self.settings.payment_currency,
                label=payments.invoice_label(facts.name, facts.quantity),
                amount=facts.amount,
                provider_token=token.get_secret_value() if token else "",
            ),
        )

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
            replace(part, edit_message_id=message_id)
            for part, message_id in zip(parts, live.message_ids, strict=True)
        ]

    def _post_parts(self, view: drops.PostView, now: datetime) -> list[Part]:
        # A long drop goes out in several messages, each with the Join buttons of its own items.
        chunks = ordering.post_chunks(view.items)
        parts = [
            Part(
                ordering.drop_post(_subset(view, chunk), now, self.settings.currency), _keys(chunk)
            )
            for chunk in chunks
        ]
        if not view.pictured:
            return parts  # no item has a photo: text only
        # One picture of every item. Its caption is the post when the post surely fits a caption
        # (decided on what never changes, so every edit has the messages it went out in), else
        # the picture goes first and the post right after it.
        picture = Picture(view.drop_id, view.items[0].number, view.picture)
        if len(chunks) == 1 and ordering.fits_caption(view.items):
            return [replace(parts[0], picture=picture)]
        return [Part("", picture=picture), *parts]

    async def broadcast_progress(
        self, session: AsyncSession, progress: broadcasts.Progress, recipient: Recipient
    ) -> Part:
        """The admin's status message while a broadcast goes out (see BroadcastMonitor)."""
        with self.catalogs.context(), self.catalogs.use_locale(self.locale(True, recipient)):
            text = community.broadcast_status(progress, utcnow())
            return Part(text, stop_broadcast(progress.broadcast_id), progress.status_message_id)


def _keys(items: list[ItemView]) -> InlineKeyboardMarkup | None:
    """Join (and, where there is more to see, Details) for each open item."""
    rows = [
        [
            join_button(item.group_buy_id, item.number, item.name),
            *([details_button(item.group_buy_id, item.number)] if item.has_details else []),
        ]
        for item in items
        if item.state is GroupBuyState.OPEN
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def _venue(place: PlaceLine) -> Venue:
    return Venue(place.latitude, place.longitude, place.title, place.address)


def _late(started: datetime) -> bool:
    """A broadcast's status message that is not there a minute after it started never will be
    (its handler died): its report goes as a message of its own."""
    return utcnow() - started > timedelta(minutes=1)


def _parts(text: str) -> list[Part]:
    return [Part(part) for part in split_message(text)]


def _all(items: Sequence[OutboxItem], kind: type[P]) -> list[P]:
    """The payloads of coalesced rows (one message for several rows of one kind)."""
    return [item.payload for item in items if isinstance(item.payload, kind)]


def _subset(view: drops.PostView, items: list[ItemView]) -> drops.PostView:
    return replace(view, items=items)
