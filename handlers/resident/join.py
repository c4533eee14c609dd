"""Joining and leaving items: /join n [qty], the Join button, /cancel n, and /today.

A typed /join or /cancel is confirmed privately: during a rush, sixty "No. 17 joined …" replies
would bury the group and spend its 20 messages a minute. The group sees the joins on the drop
post itself (its 接龙 list of the latest members, kept current by edits). Only a member the bot
cannot write to is told in the group, together with the others waiting (services/ordering/
group_acks.py)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime

from aiogram import Bot, Router
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message, Update
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.formatting import esc, item_label
from bot.i18n import private_language
from bot.services.after_sale import requests
from bot.services.after_sale.requests import Requested
from bot.services.community.communities import CommunityRef, require_community
from bot.services.community.people import UserRef
from bot.services.notices import GroupAckNotice
from bot.services.ordering import group_acks, item_media, joins
from bot.services.ordering.joins import CancelResult
from handlers.keyboards import JoinButton
from handlers.parsing import BadUsage, need_group, positive_int, words
from handlers.replies import answer
from handlers.texts.ordering import cancel_reply, item_block, join_reply, join_toast
from handlers.texts.payments import reserved_reply, reserved_toast


async def join_command(
    message: Message,
    command: CommandObject,
    bot: Bot,
    session: AsyncSession,
    now: datetime,
    user: UserRef,
    community: CommunityRef | None,
    settings: Settings,
    i18n: I18n,
    event_update: Update,
) -> None:
    need_group(message, "join")
    where = require_community(community)
    args = words(command)
    number = positive_int(args[0]) if args else None
    quantity = positive_int(args[1]) if len(args) > 1 else 1
    if number is None or quantity is None or len(args) > 2:
        raise BadUsage(
            "/join n [qty]",
            _("Give the item number and, if you want more than one, a whole quantity ≥ 1."),
        )
    result = await joins.join_again_or_first(
        session, where.id, user.id, now, number=number, quantity=quantity
    )
    if result is None:  # a repeat of a join the resident has since left: nothing to say
        return
    ack = GroupAckNotice(
        user_id=user.id,
        name=user.first_name,
        action="reserved" if result.reserved else "joined" if result.new_member else "added",
        number=result.number,
        item=result.name,
        quantity=result.quantity,
        seq=result.seq,
    )
    await confirm(
        bot,
        session,
        now,
        i18n,
        settings,
        user,
        where,
        ack,
        event_update.update_id,
        lambda: (
            reserved_reply(result, where.tz, now, settings.currency)
            if result.reserved
            else join_reply(result, where.tz, now)
        ),
    )


async def join_button(
    callback: CallbackQuery,
    callback_data: JoinButton,
    session: AsyncSession,
    now: datetime,
    user: UserRef,
    community: CommunityRef | None,
) -> None:
    # Pressed under an item's details in the private chat: the item's own community.
    if community is None:
        community = await item_media.community_of(session, callback_data.group_buy_id)
    where = require_community(community)
    result = await joins.join_again_or_first(
        session, where.id, user.id, now, group_buy_id=callback_data.group_buy_id
    )
    if result is None:  # a repeat of a join the resident has since left: nothing to say
        return
    text = reserved_toast(result, now) if result.reserved else join_toast(result, now)
    if not user.started:
        text += " " + (
            _("Start me privately to pay.")
            if result.reserved
            else _("Start me privately to get your pickup code.")
        )
    # A replayed press (nothing added) may have been answered before its instance died:
    # Telegram then refuses the second answer, and that is fine.
    replayed = (
        contextlib.suppress(TelegramBadRequest) if not result.added else contextlib.nullcontext()
    )
    with replayed:
        await callback.answer(text[:200], show_alert=not user.started)


async def cancel_command(
    message: Message,
    command: CommandObject,
    bot: Bot,
    session: AsyncSession,
    now: datetime,
    user: UserRef,
    community: CommunityRef | None,
    settings: Settings,
    i18n: I18n,
    event_update: Update,
) -> None:
    need_group(message, "cancel")
    where = require_community(community)
    args = words(command)
    number = positive_int(args[0]) if len(args) == 1 else None
    if number is None:
        raise BadUsage("/cancel n", _("Give the number of the item to leave."))
    left = await requests.leave(session, where, user.id, number, settings.admin_ids, now)
    ack = GroupAckNotice(
        user_id=user.id,
        name=user.first_name,
        action="asked" if isinstance(left, Requested) else "left",
        number=left.number,
        item=left.name,
        quantity=left.quantity if isinstance(left, CancelResult) else 0,
    )

    def reply() -> str:
        if isinstance(left, CancelResult):
            return cancel_reply(left, where.tz, now, settings.currency)
        return _(
            "📨 {item} has formed, so leaving it needs the platform's approval. "
            "I asked the admins; you will hear from me privately."
        ).format(item=item_label(left.number, left.name))

    await confirm(
        bot, session, now, i18n, settings, user, where, ack, event_update.update_id, reply
    )


async def confirm(
    bot: Bot,
    session: AsyncSession,
    now: datetime,
    i18n: I18n,
    settings: Settings,
    user: UserRef,
    where: CommunityRef,
    ack: GroupAckNotice,
    update_id: int,
    reply: Callable[[], str],
) -> None:
    """A typed command's answer, privately in the member's own language; if the bot cannot
    write to them, in the group together with the others waiting for theirs."""
    if user.started and not user.unreachable:
        language = private_language(user.language, user.tg_language, settings.default_language)
        with i18n.use_locale(language):
            text = f"🏘 <b>{esc(where.name)}</b>\n{reply()}"
        try:
            await bot.send_message(user.id, text)
            return
        except TelegramForbiddenError:
            pass  # blocked the bot since: they hear it in the group
    await group_acks.acknowledge_in_group(session, where, user, ack, update_id, now)


async def today(
    message: Message,
    session: AsyncSession,
    now: datetime,
    settings: Settings,
    community: CommunityRef | None,
) -> None:
    need_group(message, "today")
    where = require_community(community)
    items = await joins.open_items(session, where.id, now)
    if not items:
        await message.reply(_("Nothing is open right now. The next drop will be posted here."))
        return
    body = "\n".join(item_block(item, settings.currency, (where.tz, now)) for item in items)
    await answer(message, _("🛒 <b>Open now</b>") + "\n" + body + "\n\n" + _("Join: /join n [qty]"))


def router() -> Router:
    """A fresh router (a router can belong to only one dispatcher)."""
    router = Router(name=__name__)
    router.message.register(join_command, Command("join"))
    router.message.register(cancel_command, Command("cancel"))
    router.message.register(today, Command("today"))
    return router


def buttons_router() -> Router:
    """The Join button alone: a rush is hundreds of presses, each better not walked past the
    routers before this one (no other button shares its prefix, so the order changes nothing
    else)."""
    router = Router(name=f"{__name__}.buttons")
    router.callback_query.register(join_button, JoinButton.filter())
    return router
