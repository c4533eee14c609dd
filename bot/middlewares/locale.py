"""The language of the reply: the community's in a group, the user's own in private."""

from __future__ import annotations

from typing import Any

from aiogram.types import Chat, TelegramObject
from aiogram.utils.i18n import I18nMiddleware

from bot.i18n import Catalogs, private_language
from bot.services.community.communities import CommunityRef
from bot.services.community.people import UserRef


class LocaleMiddleware(I18nMiddleware):
    def __init__(self, catalogs: Catalogs, default_language: str) -> None:
        super().__init__(catalogs)
        self.default_language = default_language

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        chat: Chat | None = data.get("event_chat")
        community: CommunityRef | None = data.get("community")
        user: UserRef | None = data.get("user")
        if chat is not None and chat.type != "private":
            return community.language if community else self.default_language
        if user is None:
            return self.default_language
        return private_language(user.language, user.tg_language, self.default_language)
