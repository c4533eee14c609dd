"""Photos and descriptions of a draft's items, from the admin's private chat.

- A photo captioned `#2` (or `2`, or `#2 free-range, 30 a box`) goes to item 2 of the latest
  draft; sent as a reply to a draft's preview, to that draft. An album's caption covers the
  album: its other photos go where the captioned one went.
- A picture sent as a file (uncompressed) is checked as Telegram checks a photo and sent back as
  one, so it can be shown like the others.
- A reply to a preview with `#2 some words` sets item 2's description (`#2 -` clears it).
"""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiogram import Bot, F, Router
from aiogram.filters import StateFilter
from aiogram.types import BufferedInputFile, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.imaging.checks import MAX_BYTES, check_photo
from bot.services.community.people import Actor
from bot.services.kernel.errors import ImageRefused, NotAnItemNumber
from bot.services.ordering import item_media
from handlers.texts.ordering import item_media as media_text

# "#2", "＃2", "2", optionally followed by a description.
_CAPTION = re.compile(r"^\s*[#＃]?\s*(\d{1,3})(?:\s+(.*))?\s*$", re.DOTALL)
_DESCRIPTION = re.compile(r"^\s*[#＃]\s*(\d{1,3})\s+(.+?)\s*$", re.DOTALL)
_PREVIEW = re.compile(r"/publish (\d{1,9})")
ALBUM_WAIT = 0.25  # seconds between looks for an album's captioned photo
ALBUM_TRIES = 12

T = TypeVar("T")


def _is_admin(message: Message, actor: Actor) -> bool:
    return actor.is_admin and message.chat.type == "private"


def _previewed_drop(message: Message) -> int | None:
    """The draft a reply answers: the one its preview offers to publish."""
    replied = message.reply_to_message
    if replied is None or replied.from_user is None or not replied.from_user.is_bot:
        return None
    found = _PREVIEW.search(replied.text or replied.caption or "")
    return int(found.group(1)) if found else None


def _target(message: Message) -> tuple[int | None, str | None]:
    """The item number and description a caption gives (none: an album's other photo)."""
    caption = message.caption or ""
    if not caption.strip():
        return None, None
    match = _CAPTION.match(caption)
    if match is None:
        raise NotAnItemNumber()
    return int(match.group(1)), (match.group(2) or "").strip() or None


async def photo(message: Message, session: AsyncSession, actor: Actor) -> None:
    assert message.photo
    await _add(message, session, actor, message.photo[-1].file_id)


async def picture_file(message: Message, bot: Bot, session: AsyncSession, actor: Actor) -> None:
    """A picture sent as a file: Telegram's photo rules checked here, then sent back as a photo."""
    document = message.document
    assert document is not None
    if not (document.mime_type or "").startswith("image/"):
        raise ImageRefused("not_image")
    if document.file_size is not None and document.file_size > MAX_BYTES:
        raise ImageRefused("too_big")
    position, words = _target(message)
    if position is None and message.media_group_id is None:
        raise NotAnItemNumber()
    if words is not None:
        item_media.check_description(words)
    # Refused items are refused before anything is sent back.
    await _album_patiently(
        message,
        lambda: item_media.check_photo_target(
            session,
            actor,
            drop_id=_previewed_drop(message),
            position=position,
            media_group_id=message.media_group_id,
        ),
    )
    data = io.BytesIO()
    await bot.download(document.file_id, destination=data)
    check = check_photo(data.getvalue())
    if check.refusal is not None:
        raise ImageRefused(check.refusal)
    sent = await message.answer_photo(
        BufferedInputFile(data.getvalue(), document.file_name or "photo.jpg")
    )
    assert sent.photo
    await _add(message, session, actor, sent.photo[-1].file_id)


async def _add(message: Message, session: AsyncSession, actor: Actor, file_id: str) -> None:
    position, words = _target(message)
    if words is not None:
        item_media.check_description(words)  # refused before the photo is added, not after
    media = await _album_patiently(
        message,
        lambda: item_media.add_photo(
            session,
            actor,
            file_id,
            drop_id=_previewed_drop(message),
            position=position,
            media_group_id=message.media_group_id,
        ),
    )
    if words is not None:
        media = await item_media.describe(session, actor, media.position, words, media.drop_id)
    if position is None:
        return  # an album's other photo: the captioned one answers for the album
    await message.answer(media_text(media))


async def _album_patiently(message: Message, call: Callable[[], Awaitable[T]]) -> T:
    """`call()`, tried again for a while when it is an album's uncaptioned photo and the
    captioned one is not in yet (an album's photos come as separate updates, handled at once)."""
    for _ in range(ALBUM_TRIES - 1):
        try:
            return await call()
        except NotAnItemNumber:
            if message.media_group_id is None:
                raise
            await asyncio.sleep(ALBUM_WAIT)
    return await call()


async def description(message: Message, session: AsyncSession, actor: Actor) -> None:
    match = _DESCRIPTION.match(message.text or "")
    assert match is not None
    words = match.group(2)
    media = await item_media.describe(
        session,
        actor,
        int(match.group(1)),
        "" if words == "-" else words,
        _previewed_drop(message),
    )
    await message.answer(media_text(media))


def _describes(message: Message, **_: Any) -> bool:
    return message.reply_to_message is not None and bool(_DESCRIPTION.match(message.text or ""))


def router() -> Router:
    """A fresh router (a router can belong to only one dispatcher)."""
    router = Router(name=__name__)
    # Outside any dialog: a photo in the /return dialog is the resident's evidence.
    idle = StateFilter(None)
    router.message.register(photo, F.photo, ~F.caption.startswith("/"), idle, _is_admin)
    router.message.register(picture_file, F.document, ~F.caption.startswith("/"), idle, _is_admin)
    router.message.register(description, F.text, idle, _is_admin, _describes)
    return router
