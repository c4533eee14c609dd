"""Money paid in advance through Telegram Payments, and what is owed back.

A payment is kept exactly as Telegram reported it, once (its charge ids are unique), whatever
became of its order: a payment is never lost because its reservation lapsed or its item closed;
what cannot be delivered becomes a refund owed. A refund is owed for exactly the undelivered
amount and is done by an admin at the provider (`/refunded`), or at once through the Bot API
when the currency is Telegram Stars.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime
from models.types import state_type


class Payment(Base):
    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    # None: a payment for an order this bot does not know (its payload forged, or the database
    # restored from before the order): kept all the same, and owed back.
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[int] = mapped_column(Integer)  # minor units of `currency`
    currency: Mapped[str] = mapped_column(String(3))
    telegram_charge_id: Mapped[str] = mapped_column(String(255), unique=True)
    # Empty for Telegram Stars; stored as NULL then, so uniqueness holds for the real ones.
    provider_charge_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RefundReason(StrEnum):
    FAILED = "failed"  # the group-buy did not form
    CANCELLED = "cancelled"  # the resident left the item before its deadline
    LATE = "late"  # paid after the reservation lapsed, and nothing was left to honour it
    TWICE = "twice"  # a second payment for an order already paid
    SHORT = "short"  # part of the order did not arrive (/short)
    RETURNED = "returned"  # an approved return
    UNKNOWN = "unknown"  # a payment for no order this bot knows


class Refund(Base):
    __tablename__ = "refunds"
    __table_args__ = (Index("ix_refunds_done_owed", "done_at", "owed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    user_id: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[RefundReason] = mapped_column(state_type(RefundReason))
    owed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by: Mapped[int | None] = mapped_column(BigInteger)  # the admin; None: automatic (Stars)
