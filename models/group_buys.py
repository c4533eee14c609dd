"""Group-buys (one item in one community), orders, pickup codes and handovers."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime
from models.enums import CodeState, GroupBuyState, OrderState
from models.types import state_type


class GroupBuy(Base):
    __tablename__ = "group_buys"
    __table_args__ = (
        Index("ix_group_buys_state_deadline", "state", "deadline"),
        # Item numbers are what residents type; they must be unambiguous among live items.
        Index(
            "uq_group_buys_live_number",
            "community_id",
            "number",
            unique=True,
            sqlite_where=text("state IN ('open', 'formed')"),
            postgresql_where=text("state IN ('open', 'formed')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    drop_post_id: Mapped[int] = mapped_column(ForeignKey("drop_posts.id"), index=True)
    drop_item_id: Mapped[int] = mapped_column(ForeignKey("drop_items.id"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    state: Mapped[GroupBuyState] = mapped_column(state_type(GroupBuyState))
    number: Mapped[int | None] = mapped_column(Integer)  # given when the post goes out
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pickup_date: Mapped[date | None] = mapped_column(Date)
    # Copied from the item at posting, so a join reads one row.
    unit_price: Mapped[int] = mapped_column(Integer)
    min_members: Mapped[int] = mapped_column(Integer)
    purchase_limit: Mapped[int | None] = mapped_column(Integer)
    members: Mapped[int] = mapped_column(Integer, default=0)  # residents in state `joined`
    pay_within: Mapped[int | None] = mapped_column(Integer)  # the drop's: prepaid when set
    last_seq: Mapped[int] = mapped_column(Integer, default=0)  # "No. 7 joined"
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PickupCode(Base):
    """One per resident, community and pickup date; covers all their formed orders that day."""

    __tablename__ = "pickup_codes"
    __table_args__ = (UniqueConstraint("user_id", "community_id", "pickup_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(7), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    pickup_date: Mapped[date] = mapped_column(Date)
    state: Mapped[CodeState] = mapped_column(state_type(CodeState))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The last reminder to pick up (/remind or the daily one): at most one an hour.
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WrongCode(Base):
    """A well-formed pickup code a leader typed that is not a code they may use: guesses are
    counted, so that a leader (or a stolen phone) cannot try codes until one works."""

    __tablename__ = "wrong_codes"
    __table_args__ = (Index("ix_wrong_codes_user_at", "user_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    community_id: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class Handover(Base):
    """A leader handing goods over against a code; `/undo` reverts the latest one."""

    __tablename__ = "handovers"

    id: Mapped[int] = mapped_column(primary_key=True)
    pickup_code_id: Mapped[int] = mapped_column(ForeignKey("pickup_codes.id"), index=True)
    handed_by: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# An order is paid for in these states (formed, and its goods arrive or are on their way).
OWED = frozenset({OrderState.CONFIRMED, OrderState.READY, OrderState.PICKED_UP})


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("group_buy_id", "user_id"),
        Index("ix_orders_user_state", "user_id", "state"),
        Index("ix_orders_group_buy_state", "group_buy_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_buy_id: Mapped[int] = mapped_column(ForeignKey("group_buys.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    # Of `quantity`, how many did not arrive (/short): refunded, not handed over.
    short_quantity: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    unit_price: Mapped[int] = mapped_column(Integer)  # minor units, as at joining
    seq: Mapped[int | None] = mapped_column(Integer)
    state: Mapped[OrderState] = mapped_column(state_type(OrderState))
    pickup_code_id: Mapped[int | None] = mapped_column(ForeignKey("pickup_codes.id"), index=True)
    handover_id: Mapped[int | None] = mapped_column(ForeignKey("handovers.id"))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    picked_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Prepaid items: until when an unpaid reservation holds; when it was paid.
    reserved_until: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @hybrid_property
    def delivered(self) -> int:
        """Units to hand over: what was ordered less what did not arrive. The same expression
        in Python (on a row) and in SQL (`Order.delivered` in a query)."""
        return self.quantity - self.short_quantity

    @property
    def owed(self) -> int:
        """What the resident pays for this order: what arrives of a formed order. Nothing while
        it is still open, nor for one cancelled, failed or that did not arrive; a returned one
        is `refunded` instead."""
        return self.delivered * self.unit_price if self.state in OWED else 0

    @property
    def refunded(self) -> int:
        """What an approved return gives back."""
        return self.delivered * self.unit_price if self.state is OrderState.RETURNED else 0
