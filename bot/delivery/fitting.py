"""Every request fits Telegram's limits, whatever text went into it.

The texts are built to fit (user input is quoted shortened, long lists are split), but a reply
that does not fit must never fail and leave the user with nothing. This request middleware sits
in front of every call the bot makes:

- a message whose shown text is longer than 4,096 is sent as several messages, split on the
  text (never inside an entity or a tag), the buttons on the last one;
- an edit, a caption (1,024) or a button's answer (200) cannot be split: it is shortened, with
  "…" where something was left out.
"""

from __future__ import annotations

import logging
from typing import Any

from aiogram import Bot
from aiogram.client.default import Default
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageCaption,
    EditMessageText,
    Response,
    SendDocument,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType

from bot.formatting import (
    CAPTION_LIMIT,
    MESSAGE_LIMIT,
    clip,
    esc,
    plain_text,
    shorten,
    split_message,
    utf16_len,
)

log = logging.getLogger(__name__)

CALLBACK_ANSWER_LIMIT = 200


class FitToTelegram(BaseRequestMiddleware):
    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        if isinstance(method, SendMessage) and _too_long(bot, method, method.text, MESSAGE_LIMIT):
            return await self._send_in_parts(make_request, bot, method)
        fitted: Any = method
        if isinstance(method, EditMessageText):
            fitted = _fitted(bot, method, "text", MESSAGE_LIMIT)
        elif isinstance(method, (SendDocument, SendPhoto, EditMessageCaption)):
            fitted = _fitted(bot, method, "caption", CAPTION_LIMIT)
        elif (
            isinstance(method, AnswerCallbackQuery)
            and len(method.text or "") > CALLBACK_ANSWER_LIMIT
        ):
            text = clip(method.text or "", CALLBACK_ANSWER_LIMIT)
            fitted = method.model_copy(update={"text": text})
        return await make_request(bot, fitted)

    async def _send_in_parts(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: SendMessage,
    ) -> Response[TelegramType]:
        html = _is_html(bot, method)
        parts = split_message(method.text if html else esc(method.text))
        log.info("a message to %s is %d parts long", method.chat_id, len(parts))
        response: Response[TelegramType] | None = None
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            update: dict[str, Any] = {"text": part if html else plain_text(part)}
            if not last:
                update["reply_markup"] = None  # the buttons go under the last part
            if index:
                update["reply_parameters"] = None  # only the first part replies
                update["reply_to_message_id"] = None
            response = await make_request(bot, method.model_copy(update=update))  # type: ignore[arg-type]
        assert response is not None
        return response


def _is_html(bot: Bot, method: Any) -> bool:
    mode = method.parse_mode
    if isinstance(mode, Default):
        mode = bot.default.parse_mode
    return str(getattr(mode, "value", mode) or "").upper() == "HTML"  # ParseMode or a string


def _too_long(bot: Bot, method: Any, text: str | None, limit: int) -> bool:
    if not text or utf16_len(text) <= limit:
        return False  # the shown text is never longer than what was sent
    shown = plain_text(text) if _is_html(bot, method) else text
    return utf16_len(shown) > limit


def _fitted(bot: Bot, method: Any, field: str, limit: int) -> Any:
    text = getattr(method, field)
    if not _too_long(bot, method, text, limit):
        return method
    html = _is_html(bot, method)
    short = shorten(text if html else esc(text), limit)
    log.info("a %s to %s was shortened to fit", field, getattr(method, "chat_id", "?"))
    return method.model_copy(update={field: short if html else plain_text(short)})
