"""Drops (a day's pre-sale items), their items, and their posts in each community."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime
from models.enums import DropState, PostState
from models.types import state_type

PHOTOS_PER_ITEM = 5
DESCRIPTION_LIMIT = 500


class Drop(Base):
    __tablename__ = "drops"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_by: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[DropState] = mapped_column(state_type(DropState))
    # "+2h" (after posting) or "18:00" (local time in each community).
    deadline_spec: Mapped[str] = mapped_column(String(16))
    # "2026-11-24", "today", "tomorrow", or None for "the day after the deadline".
    pickup_spec: Mapped[str | None] = mapped_column(String(16))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    source_text: Mapped[str] = mapped_column(Text)
    # The drop's picture (a grid of its items' photos) once uploaded to Telegram, by the number
    # of its first tile ("1" nearly always; a community with live items numbers on after them):
    # every later post sends this file id instead of uploading the picture again.
    picture_file_ids: Mapped[dict[str, str] | None] = mapped_column(JSON)
    # Paid in advance: a join reserves, and the reservation lapses unpaid after this many
    # minutes (or at the deadline). None: paid at pickup.
    pay_within: Mapped[int | None] = mapped_column(Integer)


class DropItem(Base):
    __tablename__ = "drop_items"
    __table_args__ = (UniqueConstraint("drop_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    drop_id: Mapped[int] = mapped_column(ForeignKey("drops.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str | None] = mapped_column(String(32))
    price: Mapped[int] = mapped_column(Integer)  # minor units (fen / cents)
    min_members: Mapped[int] = mapped_column(Integer)
    purchase_limit: Mapped[int | None] = mapped_column(Integer)
    stock: Mapped[int | None] = mapped_column(Integer)
    # Shared by every community; changed only by conditional UPDATEs (see services/ordering/joins.py).
    stock_left: Mapped[int | None] = mapped_column(Integer)
    returnable: Mapped[bool] = mapped_column(Boolean, default=True)
    earns_points: Mapped[bool] = mapped_column(Boolean, default=True)
    return_hours: Mapped[int] = mapped_column(Integer, default=48, server_default="48")
    description: Mapped[str | None] = mapped_column(String(DESCRIPTION_LIMIT))


class ItemPhoto(Base):
    """A product photo of an item, as a Telegram file id (the bot keeps no image files)."""

    __tablename__ = "item_photos"
    __table_args__ = (UniqueConstraint("drop_item_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    drop_item_id: Mapped[int] = mapped_column(
        ForeignKey("drop_items.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)  # 1 is the item's tile on the drop picture
    file_id: Mapped[str] = mapped_column(String(255))
    # An album's photos after the first come without a caption: they go where the first went.
    media_group_id: Mapped[str | None] = mapped_column(String(64), index=True)


class DropPost(Base):
    """One drop in one community: when it goes out and which messages carry it."""

    __tablename__ = "drop_posts"
    __table_args__ = (UniqueConstraint("drop_id", "community_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    drop_id: Mapped[int] = mapped_column(ForeignKey("drops.id", ondelete="CASCADE"))
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    state: Mapped[PostState] = mapped_column(state_type(PostState))
    post_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message_ids: Mapped[list[int] | None] = mapped_column(JSON)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the live post's last edit
    # A digest of what the post shows now, so an unchanged post is never edited (not even after
    # a restart, or by another instance).
    render_hash: Mapped[str | None] = mapped_column(String(16))
    # While set and in the future, one instance is editing the post: the others leave it alone,
    # so several instances never spend a group's message budget on the same edit.
    drawing_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
