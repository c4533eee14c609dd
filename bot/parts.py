"""What the bot sends for one queued message or one live post: its parts, as Telegram takes them.

Words are chosen by the renderers in `handlers/` (notices, live posts); the sender and the post
refresher in `bot/delivery/` send what they are given. This module is all the two share.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from aiogram.types import InlineKeyboardMarkup


@dataclass(frozen=True)
class Venue:
    """A place on the map: Telegram shows it as a pin with a name and an address."""

    latitude: float
    longitude: float
    title: str
    address: str


@dataclass(frozen=True)
class Picture:
    """A picture the bot draws (`bot/delivery/pictures.py`), sent as a photo with the part's
    text as its caption: by `file_id` once Telegram has it, else drawn and uploaded once."""

    drop_id: int
    first_number: int  # the number on its first tile
    file_id: str | None = None

    @property
    def key(self) -> str:
        return f"drop:{self.drop_id}:{self.first_number}"


@dataclass(frozen=True)
class Invoice:
    """A Telegram Payments invoice for one price (`sendInvoice`)."""

    title: str
    description: str
    payload: str
    currency: str
    label: str
    amount: int  # smallest units of `currency`
    provider_token: str  # "" for Telegram Stars


@dataclass(frozen=True)
class Part:
    text: str
    markup: InlineKeyboardMarkup | None = None
    edit_message_id: int | None = None  # edit this message instead (falls back to sending)
    photos: tuple[str, ...] = ()  # send these (Telegram file ids) as an album instead of text
    venue: Venue | None = None  # send this place instead of text
    picture: Picture | None = None  # send this picture, the text as its caption
    invoice: Invoice | None = None  # send this invoice instead of text


def digest(parts: Sequence[Part]) -> str:
    """A short fingerprint of what these messages show, to tell whether an edit would change it."""
    hashed = hashlib.sha1()
    for part in parts:
        hashed.update(part.text.encode())
        hashed.update("".join(part.photos).encode())
        hashed.update(repr(part.venue).encode())
        # The picture by what it shows, not by its file id (known only after the first upload).
        hashed.update(part.picture.key.encode() if part.picture else b"-")
        hashed.update(part.invoice.payload.encode() if part.invoice else b"-")
        hashed.update(part.markup.model_dump_json().encode() if part.markup else b"-")
    return hashed.hexdigest()[:16]


class Unrenderable(Exception):
    """The facts behind the message are gone (e.g. a deleted drop): nothing to send."""


class NotYet(Exception):
    """The message should wait a little for something it refers to (no attempt is counted)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds
