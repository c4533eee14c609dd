"""Which community a leader command is about, from where it was sent."""

from __future__ import annotations

from aiogram.types import Message

from bot.services.community.communities import CommunityRef, pick_led_community, require_community
from bot.services.community.people import Actor
from bot.services.kernel.errors import NotAllowed


def led_community(
    message: Message, actor: Actor, community: CommunityRef | None, leads: tuple[CommunityRef, ...]
) -> CommunityRef:
    """In a group: that community (if they lead it). Privately: the one community they lead."""
    if message.chat.type != "private":
        return pick_led_community(require_community(community), actor, leads)
    return pick_led_community(None, actor, leads)


def handover_scope(
    message: Message, actor: Actor, community: CommunityRef | None, leads: tuple[CommunityRef, ...]
) -> list[CommunityRef] | None:
    """Where this person may hand goods over: the group's community, every community they lead,
    or anywhere (None) for a platform admin in a private chat."""
    if message.chat.type != "private":
        where = require_community(community)
        where.require_leader(actor)
        return [where]
    if actor.is_admin:
        return None
    if not leads:
        raise NotAllowed("leader")
    return list(leads)
