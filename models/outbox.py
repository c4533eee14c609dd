"""The outbox: every message that matters is a row here, written in the same transaction as the
state change that causes it, and delivered by `bot.delivery.sender`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime
from models.enums import OutboxState
from models.types import state_type


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "state", "priority", "next_attempt_at"),
        Index("ix_outbox_user_state", "user_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    # The private recipient; None for a group message.
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"))
    broadcast_id: Mapped[int | None] = mapped_column(ForeignKey("broadcasts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    # The facts to render; the words are chosen at sending, in the recipient's language then.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    priority: Mapped[int] = mapped_column(Integer)  # lower goes first
    # The same fact is never queued twice: e.g. "closed:<community>:<user>:<group-buys>".
    dedupe_key: Mapped[str | None] = mapped_column(String(160), unique=True)
    state: Mapped[OutboxState] = mapped_column(state_type(OutboxState))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message_ids: Mapped[list[int] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    # Which sender claimed it (`sending`) and when: another instance takes over a stale claim.
    claimed_by: Mapped[str | None] = mapped_column(String(32))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Broadcast(Base):
    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(primary_key=True)
    admin_id: Mapped[int] = mapped_column(BigInteger)
    text: Mapped[str] = mapped_column(Text)
    total: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The admin's status message, edited as the broadcast goes out.
    status_message_id: Mapped[int | None] = mapped_column(Integer)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What the status message shows (a digest) and since when: claimed before each edit, so
    # several instances edit it as one would.
    shown_hash: Mapped[str | None] = mapped_column(String(16))
    shown_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DeliveryEvent(Base):
    """What Telegram said when it did not simply accept a message: 429, 403, 400, 5xx, network.

    Kept a week, for /status."""

    __tablename__ = "delivery_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    kind: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    detail: Mapped[str | None] = mapped_column(Text)


class InboxUpdate(Base):
    """An update from Telegram, stored before it is acknowledged: a crash cannot lose it, and the
    same update_id delivered twice has its effect once (see services/kernel/inbox.py).

    `handled_at`: its effect happened (set in the effect's own transaction). `finished_at`: its
    handler ran to the end, answer sent. Between the two an instance can die; the update is then
    handled again, which finds the effect done and only answers (see `AlreadyHandled`)."""

    __tablename__ = "inbox"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
