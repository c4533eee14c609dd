"""Who is asking and where: the user, their role, the community of the group. Loaded once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Chat, TelegramObject, User

from bot.config import Settings
from bot.services.community import people
from bot.services.community.context import ContextReads, load_context
from bot.services.community.people import Actor, Profile


def profile_of(user: User) -> Profile:
    return Profile(
        id=user.id,
        first_name=user.first_name,
        last_name=user.last_name,
        username=user.username,
        language_code=user.language_code,
    )


class ContextMiddleware(BaseMiddleware):
    def __init__(self, settings: Settings, reads: ContextReads) -> None:
        self.settings = settings
        self.reads = reads  # a burst's updates read who and where together

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        chat: Chat | None = data.get("event_chat")
        data["settings"] = self.settings
        data["community"] = None
        data["leads"] = ()
        if user is not None and user.is_bot:
            return None  # other bots' commands are not ours to answer
        if user is None:
            return await handler(event, data)
        in_group = chat is not None and chat.type != "private"
        context = await load_context(
            data["session"],
            profile_of(user),
            chat.id if in_group and chat else None,
            data["now"],
            self.reads,
        )
        user_ref = context.user
        data["released"] = 0
        if not in_group and (not user_ref.started or user_ref.unreachable):
            # Anything the user sends privately proves the bot can write to them again.
            data["released"] = await people.start_private_chat(
                data["session"], profile_of(user), data["now"]
            )
            user_ref = replace(user_ref, started=True, unreachable=False)
        data["user"] = user_ref
        data["community"] = context.community
        data["leads"] = context.leads
        data["actor"] = Actor(user_id=user.id, is_admin=user.id in self.settings.admin_ids)
        return await handler(event, data)
