"""Users (anyone who wrote to the bot) and communities (one Telegram group each)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime

# A new community's leader commission, in basis points (1000 = 10 %): `COMMISSION_RATE` (percent)
# defaults to it.
DEFAULT_COMMISSION_RATE = 1000


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    first_name: Mapped[str] = mapped_column(String(128))
    last_name: Mapped[str | None] = mapped_column(String(128))
    username: Mapped[str | None] = mapped_column(String(64))
    tg_language: Mapped[str | None] = mapped_column(String(16))
    # The user's own choice with /lang; None means "follow Telegram's language".
    language: Mapped[str | None] = mapped_column(String(2))
    # Set when the user opened a private chat with the bot; private messages need it.
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when Telegram answered 403 for this user; cleared by /start.
    unreachable_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Who brought them (/invite link), recorded when they first started the bot through it.
    referred_by: Mapped[int | None] = mapped_column(BigInteger, index=True)
    # Too many wrong pickup codes: /pickup and /undo wait until then.
    codes_paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Where they last said they are (a location pin sent privately), for /near.
    last_lat: Mapped[float | None] = mapped_column(Float)
    last_lon: Mapped[float | None] = mapped_column(Float)
    located_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Community(Base):
    __tablename__ = "communities"
    # /near looks for points in a box of latitude and longitude first (then measures exactly);
    # with `active` and `id` in it too, the box is read from the index alone.
    __table_args__ = (
        Index("ix_communities_point_location", "point_lat", "point_lon", "active", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    name: Mapped[str] = mapped_column(String(128))
    language: Mapped[str] = mapped_column(String(2))
    timezone: Mapped[str] = mapped_column(String(64))
    leader_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The pickup point (自提点) as the platform records it; `pickup_point` holds free-text notes.
    pickup_point: Mapped[str | None] = mapped_column(Text)
    point_contact: Mapped[str | None] = mapped_column(String(64))
    point_phone: Mapped[str | None] = mapped_column(String(32))
    point_province: Mapped[str | None] = mapped_column(String(64))
    point_city: Mapped[str | None] = mapped_column(String(64))
    point_district: Mapped[str | None] = mapped_column(String(64))
    point_address: Mapped[str | None] = mapped_column(String(256))
    point_hours: Mapped[str | None] = mapped_column(String(128))
    point_route: Mapped[str | None] = mapped_column(String(64))
    point_region: Mapped[str | None] = mapped_column(String(64))
    # Settings (/settings): nudge moments in seconds before a deadline (0 = off), and the local
    # time of the daily reminder to collect goods ("" = off).
    first_nudge: Mapped[int] = mapped_column(Integer, default=3600, server_default="3600")
    second_nudge: Mapped[int] = mapped_column(Integer, default=900, server_default="900")
    reminder_time: Mapped[str] = mapped_column(String(5), default="19:00", server_default="19:00")
    reminded_on: Mapped[date | None] = mapped_column(Date)  # local day of the last auto reminder
    # The leader's commission on picked-up orders, in basis points (1000 = 10 %).
    commission_rate: Mapped[int] = mapped_column(
        Integer, default=DEFAULT_COMMISSION_RATE, server_default=str(DEFAULT_COMMISSION_RATE)
    )
    # Where the pickup point is (a pin), and how a neighbour joins the group: an invite link the
    # bot made (it may approve join requests) or one the leader gave (/setpoint link=).
    point_lat: Mapped[float | None] = mapped_column(Float)
    point_lon: Mapped[float | None] = mapped_column(Float)
    invite_link: Mapped[str | None] = mapped_column(String(256))
    invite_link_by_bot: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # Whether the bot may delete members' messages there (a group admin with that right), as
    # Telegram last said; None: not known yet (it tries, and learns from the answer).
    bot_can_delete: Mapped[bool | None] = mapped_column(Boolean)
    # False once the bot left or was removed; drops and broadcasts skip it.
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    registered_by: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
