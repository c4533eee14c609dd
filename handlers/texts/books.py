"""Commission rates, ledger entries and payouts; and their refusals."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from bot.formatting import day, esc, money
from bot.services.books.report import DailyReport
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


def daily_report(figures: DailyReport, community: str | None, currency: str) -> str:
    """/report: the period's totals, its best day and, for the platform, its top communities."""
    scope = esc(community) if community else _("the platform")
    out = [
        _("📊 <b>Orders and sales</b> — {scope}, last {days} days").format(
            scope=scope, days=figures.days
        ),
        _("{first} – {last}").format(first=day(figures.first_day), last=day(figures.dates[-1])),
        _("Orders: {orders} · sales: {sales}").format(
            orders=figures.total.total_orders, sales=money(figures.total.total_sales, currency)
        ),
    ]
    best = figures.best_day
    if best is None:
        out.append(_("No orders in this period."))
        return "\n".join(out)
    index = (best - figures.first_day).days
    out.append(
        _("Best day: {day} — {orders} orders, {sales}").format(
            day=day(best),
            orders=figures.total.orders[index],
            sales=money(figures.total.sales[index], currency),
        )
    )
    if community is None and figures.communities:
        out += ["", _("<b>Top communities</b>")]
        out += [
            f"{n}. {esc(series.name)} — {money(series.total_sales, currency)} "
            + _("({orders} orders)").format(orders=series.total_orders)
            for n, series in enumerate(figures.communities, start=1)
        ]
    return "\n".join(out)
