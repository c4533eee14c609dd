"""Paying in advance: reservations, invoices, payments, lapses and refunds; and their refusals."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import gettext as _

from bot.formatting import clip, esc, item_label, local_time, money, quantity
from bot.services.kernel import errors
from bot.services.notices import LapsedNotice, RefundedNotice
from bot.services.ordering.joins import JoinResult
from bot.services.payments.amounts import STARS
from bot.services.payments.checkout import Paid
from bot.services.payments.refunds import OwedList, OwedRefund
from handlers.texts.ordering import TOAST_NAME
from models import RefundReason


def charged(amount: int, code: str, symbol: str) -> str:
    """An amount as charged: Stars are whole (12 ⭐), anything else in minor units (¥12.00)."""
    return f"{amount} ⭐" if code == STARS else money(amount, symbol)


TITLE_LIMIT = 32  # Telegram's limits for an invoice's title and description
DESCRIPTION_LIMIT = 255


def reserved_toast(result: JoinResult, now: datetime) -> str:
    """The Join button's answer for a prepaid item (plain text, at most 200 characters)."""
    assert result.reserved is not None
    name = clip(result.name, TOAST_NAME)
    minutes = max(1, round((result.reserved.until - now).total_seconds() / 60))
    return _(
        "🕒 #{number} {name} ×{qty} is held for you for {minutes} min: pay in our private "
        "chat (the invoice is there) to join."
    ).format(number=result.number, name=name, qty=result.quantity, minutes=minutes)


def reserved_reply(result: JoinResult, tz: ZoneInfo, now: datetime, currency: str) -> str:
    """A typed /join of a prepaid item, answered privately."""
    assert result.reserved is not None
    return _(
        "🕒 {item} {qty} is held for you until {until}. Pay {amount} with the invoice I send "
        "you here to join; unpaid, it is let go then."
    ).format(
        item=item_label(result.number, result.name),
        qty=quantity(result.quantity, result.unit),
        until=local_time(result.reserved.until, tz, now),
        amount=money(result.reserved.amount, currency),
    )


def invoice_title(number: int, name: str) -> str:
    return clip(f"#{number} {name}", TITLE_LIMIT)


def invoice_description(
    community: str, name: str, qty: int, unit: str | None, price: str, pickup: date
) -> str:
    text = _("{qty} × {name} at {price}, to pick up at {community} on {day}.").format(
        qty=qty if not unit else f"{qty} {unit}",
        name=name,
        price=price,
        community=community,
        day=pickup.isoformat(),
    )
    return clip(text, DESCRIPTION_LIMIT)


def invoice_label(name: str, qty: int) -> str:
    return f"{name} ×{qty}"[:64]


def paid(result: Paid, currency: str) -> str:
    """To the resident, after Telegram's receipt."""
    item = item_label(result.number, result.name) if result.number else _("an order")
    if result.outcome in ("joined", "repeat") and result.seq:
        text = _("✅ Paid {amount}: you joined {item} ×{qty} and are No. {seq}.").format(
            amount=charged(result.amount, result.currency, currency),
            item=item,
            qty=result.quantity,
            seq=result.seq,
        )
        remaining = max(result.min_members - result.members, 0)
        if remaining:
            text += " " + _("{more} more needed.").format(more=remaining)
        return text
    return _(
        "💳 I received your payment of {amount} for {item}, but it could not be honoured ({why}). "
        "It will be refunded in full; I will tell you when it is done."
    ).format(
        amount=charged(result.amount, result.currency, currency),
        item=item,
        why=refund_reason(result.reason or RefundReason.LATE),
    )


def refund_reason(reason: RefundReason) -> str:
    return {
        RefundReason.FAILED: _("the group-buy did not form"),
        RefundReason.CANCELLED: _("you left the item"),
        RefundReason.LATE: _("the reservation had lapsed and the item is closed or sold out"),
        RefundReason.TWICE: _("the order was already paid"),
        RefundReason.SHORT: _("part of it did not arrive"),
        RefundReason.RETURNED: _("returned"),
        RefundReason.UNKNOWN: _("it was for no order I know"),
    }[reason]


def lapsed(notice: LapsedNotice) -> str:
    return _(
        "⌛ Your reservation of {item} ×{qty} in {community} was not paid in time and has been "
        "let go. Join again while it is open if you still want it."
    ).format(
        item=item_label(notice.number, notice.name),
        qty=notice.quantity,
        community=esc(notice.community),
    )


def refunded(notice: RefundedNotice, currency: str) -> str:
    return _("💸 Your refund of {amount} for {item} ({community}) has been made.").format(
        amount=charged(notice.amount, notice.currency, currency),
        item=item_label(notice.number, notice.name),
        community=esc(notice.community),
    )


def pre_checkout_refusal(reason: str) -> str:
    """Telegram shows this in the payment form (plain text)."""
    return {
        "lapsed": _("This reservation has lapsed. Join the item again to get a new invoice."),
        "closed": _("This item is closed: it can no longer be paid for."),
        "paid": _("This order is already paid."),
        "amount": _("The amount has changed. Use the newest invoice."),
        "currency": _("This invoice is in another currency. Use the newest invoice."),
        "not_yours": _("This invoice is not yours."),
    }.get(reason, _("I do not know this invoice."))


def _line(refund: OwedRefund, currency: str, tz: ZoneInfo, now: datetime) -> str:
    return _(
        "<b>{id}</b> · {when} · {amount} to {resident} (<code>{user_id}</code>) · {community} "
        "{item} · {why} · charge <code>{charge}</code>"
    ).format(
        id=refund.refund_id,
        when=local_time(refund.owed_at, tz, now),
        amount=charged(refund.amount, refund.currency, currency),
        resident=esc(refund.resident),
        user_id=refund.user_id,
        community=esc(refund.community) or "—",
        item=item_label(refund.number, refund.name) if refund.number else "",
        why=refund_reason(refund.reason),
        charge=esc(refund.provider_charge_id or refund.telegram_charge_id),
    )


def owed_list(owed: OwedList, currency: str, tz: ZoneInfo, now: datetime) -> str:
    if not owed.count:
        return _("💸 No refunds are owed.")
    total = ", ".join(
        f"{charged(amount, code, currency)} {code}" for code, amount in owed.total.items()
    )
    out = [
        _("💸 <b>Refunds owed: {count}</b>, {total} in all. Oldest first:").format(
            count=owed.count, total=total
        )
    ]
    out += [_line(refund, currency, tz, now) for refund in owed.refunds]
    if owed.count > len(owed.refunds):
        out.append(_("… and {more} more.").format(more=owed.count - len(owed.refunds)))
    out.append(
        _(
            "Refund each at your payment provider, then: /refunded &lt;id&gt;, "
            "/refunded YYYY-MM-DD (all owed that day) or /refunded all."
        )
    )
    return "\n".join(out)


def refunded_reply(done: list[OwedRefund], currency: str) -> str:
    if not done:
        return _("No refunds were owed there: nothing was marked.")
    totals: dict[str, int] = {}
    for refund in done:
        totals[refund.currency] = totals.get(refund.currency, 0) + refund.amount
    total = ", ".join(charged(amount, code, currency) for code, amount in totals.items())
    return _("✅ Marked {count} refunds done ({total}); each resident is told.").format(
        count=len(done), total=total
    )


def refusal(error: Exception) -> str | None:
    match error:
        case errors.PaymentsOff():
            return _(
                "Payment in advance is not set up: set PAYMENT_PROVIDER_TOKEN (from @BotFather) "
                "or use pay=pickup."
            )
        case errors.AwaitingPayment(number=number, name=name, quantity=qty):
            return _(
                "{item} ×{qty} is already held for you: pay its invoice in our private chat, "
                "or /cancel {number} and join again with the quantity you want."
            ).format(item=item_label(number, name), qty=qty, number=number)
        case errors.AlreadyPaid(number=number, name=name, quantity=qty):
            return _(
                "You have paid for {item} ×{qty}. A paid order cannot be added to; "
                "/cancel {number} (refunded) and join again to change it."
            ).format(item=item_label(number, name), qty=qty, number=number)
        case errors.PaymentRefused(reason=reason):
            return pre_checkout_refusal(reason)
        case errors.RefundNotFound(refund_id=refund_id):
            return _("No refund {id} is owed. /refunds lists those that are.").format(id=refund_id)
    return None
