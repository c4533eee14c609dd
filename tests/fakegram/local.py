"""An aiogram session that talks to a FakeTelegram in-process, without HTTP.

The benchmark uses it to measure the bot's own cost: every request is still prepared by aiogram,
validated by the fake server and parsed back into aiogram types, but no socket is involved.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from typing import Any, cast

from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType

from bot.sandbox.telegram import FakeTelegram, form_value


class LocalSession(BaseSession):
    def __init__(self, telegram: FakeTelegram) -> None:
        super().__init__()
        self.telegram = telegram

    async def make_request(
        self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None
    ) -> TelegramType:
        files: dict[str, Any] = {}
        params: dict[str, Any] = {}
        for key, value in method.model_dump(warnings=False).items():
            prepared = self.prepare_value(value, bot=bot, files=files)
            if prepared:
                params[key] = form_value(prepared) if isinstance(prepared, str) else prepared
        status, body = await self.telegram.handle(method.__api_method__, params)
        response = self.check_response(bot, method, status, json.dumps(body))
        return cast(TelegramType, response.result)

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        raise NotImplementedError
        yield b""  # pragma: no cover

    async def close(self) -> None:
        pass
