"""Finding a community and recruiting leaders: who was shown a group nearby, and who applied to
run a new pickup point (团长招募)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime
from models.types import state_type


class Referral(Base):
    """A resident was offered a community's invite link by /near: their join request to that
    group is approved by the bot (and nobody else's)."""

    __tablename__ = "nearby_offers"
    __table_args__ = (Index("ix_nearby_offers_user_community", "user_id", "community_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    offered_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ApplicationState(StrEnum):
    PENDING = "pending"  # waiting for an admin
    APPROVED = "approved"  # may /register a group
    REJECTED = "rejected"
    USED = "used"  # the group is registered


class LeaderApplication(Base):
    """A resident applying to lead a new pickup point."""

    __tablename__ = "leader_applications"
    __table_args__ = (Index("ix_leader_applications_user_state", "user_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    place: Mapped[str] = mapped_column(String(128))  # the point's name
    address: Mapped[str] = mapped_column(String(256))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    phone: Mapped[str] = mapped_column(String(32))
    about: Mapped[str] = mapped_column(Text)
    state: Mapped[ApplicationState] = mapped_column(state_type(ApplicationState))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[int | None] = mapped_column(BigInteger)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"))
