"""The bot joining or leaving a group, and a group turning into a supergroup."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import JOIN_TRANSITION, LEAVE_TRANSITION, ChatMemberUpdatedFilter
from aiogram.types import ChatMemberUpdated, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.formatting import esc
from bot.services.community import communities
from bot.services.community.communities import CommunityRef
from handlers.moderation import may_delete


async def added(
    event: ChatMemberUpdated, bot: Bot, session: AsyncSession, community: CommunityRef | None
) -> None:
    if event.chat.type == "private":
        return
    await communities.note_bot_rights(session, event.chat.id, may_delete(event.new_chat_member))
    if community is not None:
        text = _(
            "👋 I'm back in <b>{name}</b>. A platform admin can /register again to resume posting."
        ).format(name=esc(community.name))
    else:
        text = _(
            "👋 Hello! I run this neighbourhood's group-buys. "
            "A platform admin can make this group a community with /register."
        )
    await bot.send_message(event.chat.id, text)


async def removed(event: ChatMemberUpdated, session: AsyncSession) -> None:
    await communities.bot_left(session, event.chat.id)


async def rights_changed(event: ChatMemberUpdated, session: AsyncSession) -> None:
    """Made a group admin, or no longer one: whether it may delete members' messages."""
    if event.chat.type != "private":
        await communities.note_bot_rights(session, event.chat.id, may_delete(event.new_chat_member))


async def migrated(message: Message, session: AsyncSession) -> None:
    assert message.migrate_to_chat_id is not None
    await communities.chat_migrated(session, message.chat.id, message.migrate_to_chat_id)


def router() -> Router:
    """A fresh router (a router can belong to only one dispatcher)."""
    router = Router(name=__name__)
    router.my_chat_member.register(added, ChatMemberUpdatedFilter(JOIN_TRANSITION))
    router.my_chat_member.register(removed, ChatMemberUpdatedFilter(LEAVE_TRANSITION))
    router.my_chat_member.register(rights_changed)
    router.message.register(migrated, F.migrate_to_chat_id)
    return router
