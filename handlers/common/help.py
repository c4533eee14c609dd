"""/help: what this user may do here, by role and by place."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.services.community.communities import CommunityRef
from bot.services.community.people import Actor
from handlers import commands
from handlers.replies import answer


def _section(title: str, entries: list[commands.Command]) -> str:
    lines = [f"<b>{title}</b>"]
    for name, args, what in entries:
        usage = f"/{name} {args}".strip().replace("<", "&lt;").replace(">", "&gt;")
        lines.append(f"{usage} — {what}")
    return "\n".join(lines)


def help_text(
    actor: Actor, in_group: bool, community: CommunityRef | None, leads: tuple[CommunityRef, ...]
) -> str:
    parts = [
        _(
            "🛒 <b>tuanbot</b> runs this neighbourhood's group-buys: join items before their "
            "deadline; when enough neighbours join, the item forms and you get a private pickup "
            "code; collect your goods from the leader next day."
        ),
    ]
    if in_group and community is None:
        parts.append(_("This group is not a community yet: a platform admin can /register it."))
    parts.append(
        _section(_("In the group"), commands.RESIDENT_GROUP)
        if in_group
        else _section(_("Here, privately"), commands.RESIDENT_PRIVATE)
    )
    leads_here = community is not None and community.led_by(actor)
    if actor.is_admin or leads_here or (not in_group and leads):
        parts.append(_section(_("For leaders"), commands.LEADER))
    if actor.is_admin:
        parts.append(_section(_("For platform admins"), commands.ADMIN))
    return "\n\n".join(parts)


async def show_help(
    message: Message,
    actor: Actor,
    community: CommunityRef | None,
    leads: tuple[CommunityRef, ...],
) -> None:
    await answer(message, help_text(actor, message.chat.type != "private", community, leads))


def router() -> Router:
    """A fresh router (a router can belong to only one dispatcher)."""
    router = Router(name=__name__)
    router.message.register(show_help, Command("help"))
    return router
