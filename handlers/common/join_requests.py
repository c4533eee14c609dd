"""Join requests to a group through the bot's invite link: a neighbour whom /near showed that
group is let in, and the group is told who came; any other request is left to the group's
admins."""

from __future__ import annotations

from datetime import datetime

from aiogram import Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import ChatJoinRequest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.community import nearby
from bot.services.community.people import UserRef


async def join_request(
    request: ChatJoinRequest, session: AsyncSession, now: datetime, user: UserRef
) -> None:
    community = await nearby.offered_to(session, user.id, request.chat.id, now)
    if community is None:
        return  # not one of ours: the group's admins decide
    try:
        await request.approve()
    except TelegramAPIError:
        return  # no longer allowed to let people in: the admins will see the request
    await nearby.welcome(session, community, user, now)


def router() -> Router:
    """A fresh router (a router can belong to only one dispatcher)."""
    router = Router(name=__name__)
    router.chat_join_request.register(join_request)
    return router
