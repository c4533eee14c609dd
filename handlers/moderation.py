"""Taking a member's message down in a group: only where the bot may, learning where it may not.

Deleting needs the bot to be a group admin with the right to delete messages. What Telegram says
about that is kept on the community (`communities.note_bot_rights`), from its membership updates
and from a refused delete, so the bot does not keep asking for what it may not do.
"""

from __future__ import annotations

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.types import (
    ChatMemberAdministrator,
    ChatMemberOwner,
    ChatMemberUnion,
    Message,
    ResultChatMemberUnion,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.community import communities
from bot.services.community.communities import CommunityRef


def may_delete(member: ChatMemberUnion | ResultChatMemberUnion) -> bool:
    """Whether this membership of the bot lets it delete members' messages."""
    if isinstance(member, ChatMemberOwner):
        return True
    return isinstance(member, ChatMemberAdministrator) and member.can_delete_messages


async def learn_rights(bot: Bot, session: AsyncSession, chat_id: int) -> None:
    """Ask Telegram what the bot may do in the group (at registration)."""
    try:
        member = await bot.get_chat_member(chat_id, bot.id)
    except TelegramAPIError:
        return
    await communities.note_bot_rights(session, chat_id, may_delete(member))


async def take_down(
    message: Message, session: AsyncSession, community: CommunityRef | None
) -> bool:
    """Delete a member's message in a group where the bot may; True if it is gone."""
    if message.chat.type == "private" or community is None or community.can_delete is False:
        return False
    try:
        return bool(await message.delete())
    except TelegramBadRequest as error:
        if "can't be deleted" in error.message or "not enough rights" in error.message:
            await communities.note_bot_rights(session, message.chat.id, False)
        return False
    except TelegramAPIError:
        return False
