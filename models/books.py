"""The books: every amount of commission, points and payout as a signed ledger entry.

Totals are always sums of entries, never stored counters, so for any period the sum over orders
equals what /commission, /points and /statement show. A reversal (an undone handover, an approved
return) is a new negative entry, never an edit.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime
from models.types import state_type


class LedgerKind(StrEnum):
    COMMISSION = "commission"  # minor units earned by the community's leader on an order
    PAYOUT = "payout"  # minor units the platform paid the leader (/settle)
    POINTS = "points"  # a resident's points (1 per unit of currency paid)


class LedgerEntry(Base):
    __tablename__ = "ledger_entries"
    __table_args__ = (
        Index("ix_ledger_entries_kind_community_at", "kind", "community_id", "at"),
        Index("ix_ledger_entries_kind_user_at", "kind", "user_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[LedgerKind] = mapped_column(state_type(LedgerKind))
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    # The leader (commission, payout) or the resident (points); None: a community without leader.
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    amount: Mapped[int] = mapped_column(Integer)  # signed: reversals are negative
    reason: Mapped[str] = mapped_column(String(16))  # pickup, undo, return, payout
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    by: Mapped[int | None] = mapped_column(BigInteger)  # who recorded it (a payout's admin)
