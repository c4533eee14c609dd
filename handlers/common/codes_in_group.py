"""A pickup code typed into the group, where everyone can read it, is taken down.

Whoever has a code can collect the goods. When the bot can read the group's messages (it is a
group admin, or privacy mode is off) and a message shows a code that is still usable in this
community, the bot deletes it (as a group admin it may) and tells the sender privately why. If it
cannot write to them privately, it says so in the group, without the code.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramForbiddenError
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.formatting import esc, mention
from bot.services.community.communities import CommunityRef
from bot.services.pickup import codes
from handlers.moderation import take_down


async def code_typed(
    message: Message, bot: Bot, session: AsyncSession, community: CommunityRef | None
) -> None:
    if community is None or message.from_user is None:
        return
    shown = await codes.live_codes(
        session, community.id, codes.code_shaped(message.text or message.caption or "")
    )
    if not shown:
        return
    deleted = await take_down(message, session, community)
    group = esc(message.chat.title or community.name)
    if deleted:
        private = _(
            "🔒 I deleted your message in {group}: it showed a pickup code. Whoever has a code "
            "can collect the goods, so show yours only to the leader at the pickup point."
        ).format(group=group)
    else:
        private = _(
            "🔒 Your message in {group} shows a pickup code: please delete it. Whoever has a "
            "code can collect the goods, so show yours only to the leader at the pickup point."
        ).format(group=group)
    try:
        await bot.send_message(message.from_user.id, private)
    except TelegramForbiddenError:
        await bot.send_message(
            message.chat.id,
            _("🔒 {name}: pickup codes are private. Show yours only at the pickup point.").format(
                name=mention(message.from_user.id, message.from_user.first_name)
            ),
        )


def router() -> Router:
    """A fresh router (a router can belong to only one dispatcher)."""
    router = Router(name=__name__)
    router.message.register(
        code_typed,
        F.chat.type.in_({"group", "supergroup"}),
        (F.text & ~F.text.startswith("/")) | F.caption,
    )
    return router
