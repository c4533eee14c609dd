"""A refusal (a domain error, or a malformed command) becomes a reply saying why.

The service's transaction has already rolled back, so nothing changed. Anything else is a bug:
it is logged by aiogram, and the user is told that something went wrong rather than left waiting.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, Message, TelegramObject, Update
from aiogram.utils.i18n import gettext as _

from bot.services.kernel.uow import AlreadyHandled, current_update

log = logging.getLogger(__name__)
CALLBACK_ANSWER_LIMIT = 200


class RefusalMiddleware(BaseMiddleware):
    def __init__(self, explain: Callable[[Exception], str | None]) -> None:
        self.explain = explain

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        try:
            return await handler(event, data)
        except AlreadyHandled:
            log.info("update delivered twice: its effect already happened")
            return None
        except Exception as error:
            text = self.explain(error)
            if text is None:
                log.exception("handling update failed")
                mark = current_update.get()
                if mark is not None and mark.handled:
                    # The change committed before the failure: never say otherwise.
                    text = _(
                        "Your request was carried out, but something went wrong on my side "
                        "while answering. /help shows how to check it."
                    )
                else:
                    text = _(
                        "Sorry, something went wrong on my side. Nothing was changed; try again."
                    )
            assert isinstance(event, Update)
            await self._reply(event, text)
            return None

    async def _reply(self, update: Update, text: str) -> None:
        try:
            if isinstance(update.message, Message):
                await update.message.reply(text)
            elif isinstance(update.callback_query, CallbackQuery):
                plain = _strip_tags(text)
                if len(plain) > CALLBACK_ANSWER_LIMIT:
                    plain = plain[: CALLBACK_ANSWER_LIMIT - 1] + "…"
                await update.callback_query.answer(plain, show_alert=True)
        except TelegramAPIError:
            log.exception("could not send a refusal")


def _strip_tags(text: str) -> str:
    """Callback answers are plain text: drop our HTML tags and entities."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))
