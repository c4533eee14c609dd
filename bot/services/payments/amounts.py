"""Amounts as Telegram charges them."""

from __future__ import annotations

STARS = "XTR"  # Telegram Stars: whole stars only, and refunded whole through the Bot API


def charge_amount(minor: int, currency: str) -> int:
    """What an amount of minor units (prices as typed: 12.50 → 1250) is charged as: itself, or
    in Telegram Stars, which have no fractions, one star per whole unit (rounded up)."""
    return -(-minor // 100) if currency == STARS else minor
