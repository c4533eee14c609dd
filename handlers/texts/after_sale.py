"""Cancellation and return requests, the admins' decisions; and their refusals."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiogram.utils.i18n import gettext as _

from bot.formatting import day, esc, item_label, local_time, mention, money
from bot.services.kernel import errors
from bot.services.notices import AfterSaleNotice, DecisionNotice
from handlers.texts.common import bullet


def request(notice: AfterSaleNotice, currency: str) -> str:
    """To an admin: the request, to decide with the buttons under it."""
    head = (
        _("↩️ <b>Return request</b> {id}")
        if notice.kind == "return"
        else _("🚫 <b>Cancellation request</b> {id}")
    ).format(id=notice.request_id)
    out = [
        head,
        _("{resident} in {community}: {item} (pickup {day}), {amount}").format(
            resident=mention(notice.resident_id, notice.resident),
            community=esc(notice.community),
            item=bullet(notice.number, notice.name, notice.quantity, notice.unit).removeprefix(
                "• "
            ),
            day=day(notice.pickup_date),
            amount=money(notice.amount, currency),
        ),
    ]
    if notice.reason:
        out.append(_("Problem: {reason}").format(reason=esc(notice.reason)))
    return "\n".join(out)


def decision(notice: DecisionNotice, currency: str) -> str:
    """To the resident: what the admins decided."""
    item = item_label(notice.number, notice.name)
    amount = money(notice.amount, currency)
    if notice.kind == "cancel":
        if notice.approved:
            return _(
                "✅ Your cancellation of {item} was approved: nothing is owed ({amount})."
            ).format(item=item, amount=amount)
        return _("❌ Your cancellation of {item} was not approved: the order stands.").format(
            item=item
        )
    if notice.approved:
        return _(
            "✅ Your return of {item} was approved: {amount} will be refunded; "
            "its points were taken back."
        ).format(item=item, amount=amount)
    return _(
        "❌ Your return of {item} was not approved. Ask your leader if you want to know why."
    ).format(item=item)


def refusal(error: Exception) -> str | None:
    match error:
        case errors.AlreadyRequested(number=number, name=name):
            return _(
                "A request about #{number} <b>{name}</b> is already waiting for the platform."
            ).format(number=number, name=esc(name))
        case errors.AlreadyShipped(day=shipped_day):
            return _(
                "Too late to cancel: the goods for {day} are already on their way. After pickup "
                "you can ask for a return with /return."
            ).format(day=day(shipped_day))
        case errors.NotReturnable(name=name, why="noreturn"):
            return _("<b>{name}</b> cannot be returned (it was sold as no returns).").format(
                name=esc(name or "")
            )
        case errors.NotReturnable():
            return _("Only goods you have picked up can be returned.")
        case errors.ReturnWindowOver(name=name, until=until, timezone=timezone):
            return _("The return window of <b>{name}</b> ended at {time}.").format(
                name=esc(name), time=local_time(until, ZoneInfo(timezone))
            )
        case errors.TooFewPhotos(got=got, need=need):
            return _("Send at least {need} photos first (you sent {got}).").format(
                need=need, got=got
            )
        case errors.RequestUnknown():
            return _("That request no longer exists.")
        case errors.RequestDecided(state=state):
            return (
                _("That request was already approved.")
                if state == "approved"
                else _("That request was already rejected.")
            )
    return None
