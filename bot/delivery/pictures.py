"""Drop pictures: drawn once, uploaded once, then sent by file id to every other group.

Publishing a drop to 1,000 communities sends its picture 1,000 times and uploads it once: the
first send draws it (its items' first photos, downloaded from Telegram) and uploads it; the
others wait for that upload and send the file id Telegram gave it, which is also kept in the
database for posts that go out later or from another instance.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Awaitable, Callable

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BufferedInputFile, Message
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.formatting import money
from bot.imaging.drop_picture import TileImage, draw_drop_picture
from bot.parts import Picture
from bot.services.ordering import item_media
from bot.services.ordering.item_media import Tile

log = logging.getLogger(__name__)


class DropPictures:
    def __init__(
        self,
        bot: Bot,
        session_factory: async_sessionmaker[AsyncSession],
        currency: str,
    ) -> None:
        self.bot = bot
        self.session_factory = session_factory
        self.currency = currency
        self._file_ids: dict[str, str] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.drawn = 0  # pictures drawn by this process, for the tests and /status

    async def send(
        self, picture: Picture, send: Callable[[str | BufferedInputFile], Awaitable[Message]]
    ) -> Message:
        """Send the picture with `send` (one chat's sendPhoto): by file id when one is known,
        else drawn and uploaded, once, however many sends ask at the same time."""
        file_id = self._file_ids.get(picture.key, picture.file_id)
        if file_id is not None:
            try:
                return await send(file_id)
            except TelegramBadRequest as error:
                if "file" not in error.message.lower():
                    raise
                # Telegram no longer knows it (a file id is not forever): draw it again.
                log.warning("picture %s: %s; uploading it again", picture.key, error.message)
                if self._file_ids.get(picture.key) == file_id:
                    del self._file_ids[picture.key]
        async with self._locks.setdefault(picture.key, asyncio.Lock()):
            fresh = self._file_ids.get(picture.key)
            if fresh is not None and fresh != file_id:
                return await send(fresh)
            upload = BufferedInputFile(await self.draw(picture), f"drop-{picture.drop_id}.jpg")
            sent = await send(upload)
            assert sent.photo, "Telegram answers a sendPhoto with the photo's sizes"
            file_id = sent.photo[-1].file_id
            self._file_ids[picture.key] = file_id
        try:
            async with self.session_factory() as session:
                await item_media.remember_picture(
                    session, picture.drop_id, picture.first_number, file_id
                )
        except Exception:
            # Kept in memory all the same; another instance would upload it once more.
            log.exception("could not keep the file id of %s", picture.key)
        return sent

    async def draw(self, picture: Picture) -> bytes:
        async with self.session_factory() as session:
            tiles = await item_media.tiles(session, picture.drop_id, picture.first_number)
        photos = await asyncio.gather(*(self._download(tile.file_id) for tile in tiles))
        images = [
            TileImage(tile.number, tile.name, self._price(tile), photo)
            for tile, photo in zip(tiles, photos, strict=True)
        ]
        self.drawn += 1
        return await asyncio.to_thread(draw_drop_picture, images)

    def _price(self, tile: Tile) -> str:
        amount = money(tile.price, self.currency)
        return f"{amount} / {tile.unit}" if tile.unit else amount

    async def _download(self, file_id: str | None) -> bytes | None:
        if file_id is None:
            return None
        try:
            out = io.BytesIO()
            await self.bot.download(file_id, destination=out)
            return out.getvalue()
        except Exception as error:
            # A photo Telegram no longer serves gets a plain tile, not a missing post.
            log.warning("photo %s could not be downloaded: %s", file_id, error)
            return None
