"""Drops, by the platform admin, in a private chat: /drop (draft and preview; as a photo's
caption, the photo is item 1's), /publish. Photos of the other items: `item_photos.py`."""

from __future__ import annotations

from datetime import datetime

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.formatting import local_time
from bot.services.community.people import Actor
from bot.services.ordering import drops
from bot.services.ordering.drop_format import parse_drop
from handlers.parsing import BadUsage, clock_time, need_private, positive_int, words
from handlers.replies import answer
from handlers.texts.ordering import draft_preview


async def draft(
    message: Message, session: AsyncSession, now: datetime, actor: Actor, settings: Settings
) -> None:
    need_private(message, "drop")
    actor.require_admin()
    # `/drop …` may be a photo's caption: that photo is item 1's.
    text = message.text or message.caption or ""
    spec = parse_drop(text)
    photo = message.photo[-1].file_id if message.photo else None
    pay_within = settings.pay_within if settings.payments_on else None
    preview = await drops.create_drop(
        session, actor, spec, text, settings.zone, now, photo, pay_within
    )
    await answer(message, draft_preview(preview, settings.zone, now, settings.currency))


async def publish(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    now: datetime,
    actor: Actor,
    settings: Settings,
) -> None:
    need_private(message, "publish")
    args = words(command)
    drop_id = positive_int(args[0]) if args else None
    at = clock_time(args[1]) if len(args) == 2 else None
    if drop_id is None or len(args) > 2 or (len(args) == 2 and at is None):
        raise BadUsage(
            "/publish drop_id [HH:MM]",
            _("Give the drop id from the preview and, to post later, a local time like 18:00."),
        )
    publication = await drops.publish(session, actor, drop_id, at, now)
    count = publication.communities
    if publication.post_at is None:
        text = ngettext(
            "📣 Drop {drop_id} is posted to {count} community.",
            "📣 Drop {drop_id} is posted to {count} communities.",
            count,
        )
    else:
        text = ngettext(
            "🕒 Drop {drop_id} will be posted to {count} community at {time} local time "
            "(the first at {first}).",
            "🕒 Drop {drop_id} will be posted to {count} communities at {time} local time "
            "(the first at {first}).",
            count,
        )
    await message.answer(
        text.format(
            drop_id=drop_id,
            count=count,
            time=at.strftime("%H:%M") if at else "",
            first=local_time(publication.post_at, settings.zone) if publication.post_at else "",
        )
    )


def router() -> Router:
    """A fresh router (a router can belong to only one dispatcher)."""
    router = Router(name=__name__)
    router.message.register(draft, Command("drop"))
    router.message.register(publish, Command("publish"))
    return router
