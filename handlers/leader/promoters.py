"""/promoters: who brought the residents of this community, and what those residents bought."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.formatting import esc, mention, money
from bot.services.community import referrals
from bot.services.community.communities import CommunityRef
from bot.services.community.people import Actor
from handlers.leader.scope import led_community
from handlers.replies import answer_privately


async def show_promoters(
    message: Message,
    bot: Bot,
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
    community: CommunityRef | None,
    leads: tuple[CommunityRef, ...],
) -> None:
    where = led_community(message, actor, community, leads)
    found = await referrals.promoters(session, actor, where)
    if not found:
        text = _(
            "Nobody of {community} came through an invite link yet. Anyone can get theirs with /invite."
        ).format(community=esc(where.name))
    else:
        out = [_("🤝 <b>Promoters</b> — {community}").format(community=esc(where.name))]
        for promoter in found:
            out.append(
                "• "
                + mention(promoter.user_id, promoter.name)
                + ": "
                + ngettext(
                    "{people} resident, {orders} orders, {amount}",
                    "{people} residents, {orders} orders, {amount}",
                    promoter.residents,
                ).format(
                    people=promoter.residents,
                    orders=promoter.orders,
                    amount=money(promoter.amount, settings.currency),
                )
            )
        text = "\n".join(out)
    await answer_privately(message, bot, text, "start")


def router() -> Router:
    """A fresh router (a router can belong to only one dispatcher)."""
    router = Router(name=__name__)
    router.message.register(show_promoters, Command("promoters"))
    return router
