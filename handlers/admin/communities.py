"""Communities, by the platform admin: /register, /setleader, /communities (with the chart of
the platform's orders and sales)."""

from __future__ import annotations

from datetime import datetime

from aiogram import Bot, Router
from aiogram.enums import ChatMemberStatus
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.formatting import esc, mention
from bot.middlewares.context import profile_of
from bot.services.books import report
from bot.services.community import communities, recruiting
from bot.services.community.communities import CommunityRef, require_community
from bot.services.community.people import Actor, Profile
from bot.services.kernel.errors import UserUnknown
from handlers.leader.report import DEFAULT_DAYS, chart_of
from handlers.moderation import learn_rights
from handlers.parsing import BadUsage, need_group, need_private, positive_int, words
from handlers.replies import answer
from handlers.texts.pickup import point


async def register(
    message: Message,
    command: CommandObject,
    bot: Bot,
    session: AsyncSession,
    now: datetime,
    actor: Actor,
    settings: Settings,
) -> None:
    need_group(message, "register")
    name = (command.args or "").strip() or message.chat.title or str(message.chat.id)
    if actor.is_admin:
        done = await communities.register(
            session,
            actor,
            message.chat.id,
            name,
            settings.default_language,
            settings.timezone,
            now,
            settings.commission_basis_points,
        )
    else:  # an approved applicant registers their own group, no admin needed
        done = await recruiting.register_as_applicant(
            session,
            actor,
            message.chat.id,
            settings.default_language,
            settings.timezone,
            now,
            settings.commission_basis_points,
        )
    if done.created:
        text = _(
            "✅ <b>{name}</b> is now a community.\n"
            "Next: reply to the leader's message with /setleader, "
            "and set the pickup point with /setpoint address, hours, phone."
        )
    else:
        text = _("✅ <b>{name}</b> is registered and active.")
    await message.reply(text.format(name=esc(done.community.name)))
    await learn_rights(bot, session, message.chat.id)


async def set_leader(
    message: Message,
    command: CommandObject,
    bot: Bot,
    session: AsyncSession,
    now: datetime,
    actor: Actor,
    community: CommunityRef | None,
) -> None:
    need_group(message, "setleader")
    where = require_community(community)
    actor.require_admin()  # before asking Telegram anything about the member
    args = words(command)
    replied = message.reply_to_message.from_user if message.reply_to_message else None
    if replied is not None and not replied.is_bot and not args:
        leader = profile_of(replied)
    elif len(args) == 1 and (user_id := positive_int(args[0])) is not None:
        leader = await _member(bot, message.chat.id, user_id)
    else:
        raise BadUsage(
            _("reply to the new leader's message with /setleader, or /setleader user_id"),
        )
    await communities.set_leader(session, actor, where.id, leader, now)
    name = f"{leader.first_name} {leader.last_name}" if leader.last_name else leader.first_name
    await message.reply(
        _("👑 {leader} is now the leader of <b>{community}</b>.").format(
            leader=mention(leader.id, name), community=esc(where.name)
        )
    )


async def _member(bot: Bot, chat_id: int, user_id: int) -> Profile:
    try:
        member = await bot.get_chat_member(chat_id, user_id)
    except TelegramBadRequest:
        raise UserUnknown(user_id) from None
    if member.status in {ChatMemberStatus.LEFT, ChatMemberStatus.KICKED} or member.user.is_bot:
        raise UserUnknown(user_id)
    return profile_of(member.user)


async def list_communities(
    message: Message, session: AsyncSession, now: datetime, actor: Actor, settings: Settings
) -> None:
    need_private(message, "communities")
    rows = await communities.overview(session, actor, now)
    if not rows:
        await message.answer(_("No communities yet: add me to a group and /register it there."))
        return
    lines = [_("🏘 <b>Communities</b> ({count})").format(count=len(rows))]
    for row in rows:
        leader = esc(row.leader_name) if row.leader_name else _("no leader yet")
        lines.append(
            f"{row.community.id}. "  # the id /settle and other admin commands take
            + _(
                "<b>{name}</b> — leader: {leader}; open items: {open}; orders today: {orders}"
            ).format(
                name=esc(row.community.name),
                leader=leader,
                open=row.open_items,
                orders=row.orders_today,
            )
        )
        place = row.community.point
        where = point(place) if place.is_set else _("pickup point not set (/setpoint)")
        route = _(" · route {route}").format(route=esc(place.route)) if place.route else ""
        lines.append(f"    📍 {where}{route}")
    figures = await report.daily(session, actor, None, DEFAULT_DAYS, settings.zone, now)
    chart = await chart_of(figures, None, settings.currency)
    await answer(message, "\n".join(lines), chart=chart)


def router() -> Router:
    """A fresh router (a router can belong to only one dispatcher)."""
    router = Router(name=__name__)
    router.message.register(register, Command("register"))
    router.message.register(set_leader, Command("setleader"))
    router.message.register(list_communities, Command("communities"))
    return router
