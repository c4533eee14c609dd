"""A refusal (a domain error, or a malformed command) becomes a reply saying why.

The service's transaction has already rolled back, so nothing changed. Anything else is a bug:
it is logged by aiogram, and the user is told that something went wrong rather than left waiting
(and, if their change had already been saved, told that it was).

A refusal of a command typed in a group goes to the sender privately, in their own language,
when the bot can write to them: the group is everyone's, and a wrong item number concerns one
person. Otherwise it is a reply in the group.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError
from aiogram.types import CallbackQuery, Message, TelegramObject, Update
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.formatting import clip, esc
from bot.i18n import private_language
from bot.services.community.people import UserRef
from bot.services.kernel.uow import AlreadyHandled, current_update

log = logging.getLogger(__name__)
CALLBACK_ANSWER_LIMIT = 200


class RefusalMiddleware(BaseMiddleware):
    def __init__(self, explain: Callable[[Exception], str | None], default_language: str) -> None:
        self.explain = explain
        self.default_language = default_language

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
            if self.explain(error) is None:
                log.exception("handling update failed")
            assert isinstance(event, Update)
            await self._answer(event, error, data)
            return None

    def _words(self, error: Exception) -> str:
        text = self.explain(error)
        if text is not None:
            return text
        mark = current_update.get()
        if mark is not None and mark.handled:
            # The change committed before the failure: never say otherwise.
            return _(
                "Your request was carried out, but something went wrong on my side "
                "while answering. /help shows how to check it."
            )
        return _("Sorry, something went wrong on my side. Nothing was changed; try again.")

    async def _answer(self, update: Update, error: Exception, data: dict[str, Any]) -> None:
        try:
            if isinstance(update.message, Message):
                if not await self._privately(update.message, error, data):
                    await update.message.reply(self._words(error))
            elif isinstance(update.callback_query, CallbackQuery):
                plain = clip(_strip_tags(self._words(error)), CALLBACK_ANSWER_LIMIT)
                await update.callback_query.answer(plain, show_alert=True)
        except TelegramAPIError:
            log.exception("could not send a refusal")

    async def _privately(self, message: Message, error: Exception, data: dict[str, Any]) -> bool:
        """A refusal of a command typed in a group, sent to its sender: True if it went."""
        user: UserRef | None = data.get("user")
        i18n: I18n | None = data.get("i18n")
        bot: Bot | None = data.get("bot")
        if message.chat.type == "private" or user is None or i18n is None or bot is None:
            return False
        if not user.started or user.unreachable:
            return False
        language = private_language(user.language, user.tg_language, self.default_language)
        with i18n.use_locale(language):
            text = f"🏘 <b>{esc(message.chat.title or '')}</b>\n{self._words(error)}"
        try:
            await bot.send_message(user.id, text)
        except TelegramForbiddenError:
            return False  # blocked the bot since: they hear it in the group
        return True


def _strip_tags(text: str) -> str:
    """Callback answers are plain text: drop our HTML tags and entities."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))
