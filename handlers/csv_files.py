"""Lists as CSV files (UTF-8 with a byte-order mark, so spreadsheet programs read Chinese right).

Column headings follow the reader's language; the values are plain (numbers as numbers, dates
as ISO dates), so a sheet can sum them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram.types import BufferedInputFile
from aiogram.utils.i18n import gettext as _

from bot.formatting import money
from bot.services.books.exports import OrderRow, Statement
from bot.services.pickup.handover import Summary
from bot.services.pickup.shipping import ShippingList


def csv_file(
    name: str, header: Sequence[str], rows: Iterable[Sequence[object]]
) -> BufferedInputFile:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return BufferedInputFile(out.getvalue().encode("utf-8-sig"), filename=name)


def picking_list(picking: Summary) -> BufferedInputFile:
    """One row per resident and item: what to put in each bag."""
    return csv_file(
        f"picking-{picking.pickup_date.isoformat()}.csv",
        [_("resident"), _("item no."), _("item"), _("quantity"), _("unit"), _("picked up")],
        (
            [
                resident,
                line.number,
                line.name,
                line.quantity,
                line.unit or "",
                _("yes") if line.state is not None and line.state.value == "picked_up" else "",
            ]
            for resident, lines in picking.residents
            for line in lines
        ),
    )


def shipping_list(shipping: ShippingList) -> BufferedInputFile:
    """One row per route, pickup point and item: what to load for each stop."""
    return csv_file(
        f"shipping-{shipping.pickup_date.isoformat()}.csv",
        [
            _("route"),
            _("community"),
            _("address"),
            _("contact"),
            _("phone"),
            _("item no."),
            _("item"),
            _("quantity"),
            _("unit"),
        ],
        (
            [
                route.route or "",
                stop.community,
                stop.point.full_address(),
                stop.point.contact or "",
                stop.point.phone or "",
                line.number,
                line.name,
                line.quantity,
                line.unit or "",
            ]
            for route in shipping.routes
            for stop in route.stops
            for line in stop.lines
        ),
    )


def _money(minor: int) -> str:
    """Plain decimal for spreadsheets: 1250 → "12.50" (no currency sign, so it sums)."""
    return money(minor, "")


def _when(instant: datetime | None, tz: ZoneInfo) -> str:
    return instant.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") if instant else ""


def orders_file(name: str, rows: Sequence[OrderRow], tz: ZoneInfo) -> BufferedInputFile:
    return csv_file(
        name,
        [
            _("order"),
            _("community"),
            _("resident id"),
            _("resident"),
            _("item no."),
            _("item"),
            _("unit price"),
            _("quantity"),
            _("short"),
            _("amount owed"),
            _("refunded"),
            _("state"),
            _("joined at"),
            _("updated at"),
            _("picked up at"),
            _("commission"),
            _("points"),
            _("paid in advance"),
            _("refunds made"),
            _("refunds owed"),
        ],
        (
            [
                row.order_id,
                row.community,
                row.resident_id,
                row.resident,
                row.number,
                row.item,
                _money(row.unit_price),
                row.quantity,
                row.short,
                _money(row.amount),
                _money(row.refunded),
                row.state,
                _when(row.joined_at, tz),
                _when(row.updated_at, tz),
                _when(row.picked_up_at, tz),
                _money(row.commission),
                row.points,
                _money(row.paid),
                _money(row.refunds_made),
                _money(row.refunds_owed),
            ]
            for row in rows
        ),
    )


def statement_file(name: str, statement: Statement, tz: ZoneInfo) -> BufferedInputFile:
    """The month's commission line by line, the payouts, and the balance before and after."""
    lines: list[list[object]] = [
        ["", _("balance before"), "", "", "", _money(statement.balance_before)]
    ]
    lines += [
        [
            _when(line.at, tz),
            line.reason,
            line.number,
            line.item,
            _money(line.amount),
            _money(line.commission),
        ]
        for line in statement.lines
    ]
    lines += [
        [_when(payout.at, tz), "payout", "", "", "", _money(-payout.amount)]
        for payout in statement.payouts
    ]
    lines.append(["", _("balance after"), "", "", "", _money(statement.balance_after)])
    return csv_file(
        name,
        [_("time"), _("entry"), _("item no."), _("item"), _("amount"), _("commission")],
        lines,
    )
