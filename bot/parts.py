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
class Part:
    text: str
    markup: InlineKeyboardMarkup | None = None
    edit_message_id: int | None = None  # edit this message instead (falls back to sending)
    photos: tuple[str, ...] = ()  # send these (Telegram file ids) as an album instead of text
    venue: Venue | None = None  # send this place instead of text


def digest(parts: Sequence[Part]) -> str:
    """A short fingerprint of what these messages show, to tell whether an edit would change it."""
    hashed = hashlib.sha1()
    for part in parts:
        hashed.update(part.text.encode())
        hashed.update("".join(part.photos).encode())
        hashed.update(repr(part.venue).encode())
        hashed.update(part.markup.model_dump_json().encode() if part.markup else b"-")
    return hashed.hexdigest()[:16]


class Unrenderable(Exception):
    """The facts behind the message are gone (e.g. a deleted drop): nothing to send."""


class NotYet(Exception):
    """The message should wait a little for something it refers to (no attempt is counted)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds
