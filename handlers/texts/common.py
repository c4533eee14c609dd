"""Items and prices as every message shows them."""

from __future__ import annotations

from collections.abc import Sequence

from bot.formatting import esc, item_label, money, quantity
from bot.services.pickup.handover import Line


def bullet(number: int, name: str, amount: int, unit: str | None) -> str:
    return f"• {item_label(number, name)} {quantity(amount, unit)}"


def line(item: Line) -> str:
    return bullet(item.number, item.name, item.quantity, item.unit)


def lines(items: Sequence[Line]) -> str:
    return "\n".join(line(item) for item in items)


def price(amount: int, unit: str | None, currency: str) -> str:
    text = money(amount, currency)
    return f"{text} / {esc(unit)}" if unit else text
