"""Commission rates, ledger entries and payouts; and their refusals."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from bot.formatting import esc, money
from bot.services.kernel import errors
from bot.services.notices import PayoutNotice


def rate(basis_points: int) -> str:
    """A commission rate: 1000 → "10%", 850 → "8.5%"."""
    return f"{basis_points / 100:g}%"


def ledger_reason(reason: str) -> str | None:
    """Why an entry of the books is there, when it is not a plain pickup."""
    return {"undo": _("handover undone"), "return": _("returned")}.get(reason)


def payout(notice: PayoutNotice, currency: str) -> str:
    """To the leader: the platform paid out commission."""
    return _(
        "💸 The platform paid you {amount} of commission for {community}. Unsettled now: {left}."
    ).format(
        amount=money(notice.amount, currency),
        community=esc(notice.community),
        left=money(notice.unsettled, currency),
    )


def refusal(error: Exception, currency: str) -> str | None:
    match error:
        case errors.NothingToSettle(community=name):
            return _(
                "Nothing to settle: the leader of {community} has no unsettled commission."
            ).format(community=esc(name))
        case errors.SettleTooMuch(community=name, unsettled=unsettled):
            return _("Only {amount} is unsettled for {community}: pay at most that.").format(
                amount=money(unsettled, currency), community=esc(name)
            )
    return None
