"""After-sale: cancellations after an item formed, and returns after pickup, both decided by an
admin; and the pickup dates the platform has shipped (no more cancellations for them)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime
from models.types import state_type


class RequestKind(StrEnum):
    CANCEL = "cancel"  # leave a formed item before it ships
    RETURN = "return"  # send back a picked-up item within its return window


class RequestState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class AfterSaleRequest(Base):
    __tablename__ = "after_sale_requests"
    __table_args__ = (Index("ix_after_sale_requests_order_state", "order_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[RequestKind] = mapped_column(state_type(RequestKind))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    user_id: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[RequestState] = mapped_column(state_type(RequestState))
    reason: Mapped[str | None] = mapped_column(Text)
    photos: Mapped[list[str] | None] = mapped_column(JSON)  # Telegram file ids
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[int | None] = mapped_column(BigInteger)


class Shipment(Base):
    """A pickup date whose goods have left the warehouse (/shipping marks it)."""

    __tablename__ = "shipments"

    pickup_date: Mapped[date] = mapped_column(Date, primary_key=True)
    shipped_at: Mapped[datetime] = mapped_column(UTCDateTime)
    shipped_by: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(String(200))
