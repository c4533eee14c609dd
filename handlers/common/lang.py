"""/lang en|zh: your own language in a private chat; the group's language in a group."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import LANGUAGES
from bot.formatting import esc
from bot.services.community import communities, people
from bot.services.community.communities import CommunityRef, require_community
from bot.services.community.people import Actor
from handlers.parsing import BadUsage, words

NAMES = {"en": "English", "zh": "简体中文"}


async def set_language(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    actor: Actor,
    community: CommunityRef | None,
    i18n: I18n,
) -> None:
    args = words(command)
    language = args[0].lower() if len(args) == 1 else None
    if language not in LANGUAGES:
        raise BadUsage("/lang en|zh", _("Choose English (en) or Simplified Chinese (zh)."))
    if message.chat.type == "private":
        await people.set_language(session, actor.user_id, language)
        with i18n.use_locale(language):
            await message.answer(
                _("🌐 I will speak English with you.")
                if language == "en"
                else _("🌐 I will speak Simplified Chinese with you.")
            )
        return
    where = require_community(community)
    await communities.set_language(session, actor, where, language)
    with i18n.use_locale(language):
        await message.reply(
            _("🌐 <b>{community}</b> now speaks {language}.").format(
                community=esc(where.name), language=NAMES[language]
            )
        )


def router() -> Router:
    """A fresh router (a router can belong to only one dispatcher)."""
    router = Router(name=__name__)
    router.message.register(set_language, Command("lang"))
    return router
