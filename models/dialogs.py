"""Where each open dialog stands (/setpoint, /return, /apply), kept in the database so that a
restart in the middle of one loses none of the answers given so far."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime


class Dialog(Base):
    """One chat member's dialog: its step (aiogram's state) and the answers so far."""

    __tablename__ = "dialogs"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)  # aiogram's storage key
    state: Mapped[str | None] = mapped_column(String(255))
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
