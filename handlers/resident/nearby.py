"""Finding a pickup point: a location pin or /near in the private chat lists the points nearby,
each with a button to join its group; /where shows a community's point on the map."""

from __future__ import annotations

import contextlib
from datetime import datetime

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
)
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.services.community import nearby
from bot.services.community.communities import CommunityRef
from bot.services.community.nearby import Nearby
from bot.services.community.people import Actor, UserRef
from bot.services.kernel.errors import BadLocation
from bot.services.ordering import joins
from bot.services.pickup.point import Location
from handlers.parsing import need_private
from handlers.texts import community as words

INVITE_NAME = "tuanbot: found nearby"  # at most 32 characters


def share_location_keyboard() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=_("📍 Share my location"), request_location=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


async def location_shared(
    message: Message,
    bot: Bot,
    session: AsyncSession,
    now: datetime,
    user: UserRef,
    settings: Settings,
) -> None:
    """A pin sent privately: where the resident is. Searched from at once, and kept for /near.
    A place's card or a live location is not where they live: they are asked for their own."""
    pin = message.location
    assert pin is not None
    if message.venue is not None:
        await message.answer(
            _("That is a place's card, not where you are: share your own location instead."),
            reply_markup=share_location_keyboard(),
        )
        return
    if pin.live_period:
        await message.answer(
            _("A live location keeps moving: send your current location once instead."),
            reply_markup=share_location_keyboard(),
        )
        return
    where = Location.checked(pin.latitude, pin.longitude)
    if where is None:
        raise BadLocation(f"{pin.latitude},{pin.longitude}")
    await nearby.remember_location(session, user.id, where, now)
    await show(message, bot, session, now, user, settings, where)


async def near(
    message: Message,
    bot: Bot,
    session: AsyncSession,
    now: datetime,
    user: UserRef,
    settings: Settings,
) -> None:
    need_private(message, "near")
    where = await nearby.last_location(session, user.id)
    if where is None:
        await message.answer(words.ask_location(), reply_markup=share_location_keyboard())
        return
    await show(message, bot, session, now, user, settings, where)


async def show(
    message: Message,
    bot: Bot,
    session: AsyncSession,
    now: datetime,
    user: UserRef,
    settings: Settings,
    where: Location,
) -> None:
    result = await nearby.search(session, where, settings.nearby_radius_km)
    found = result.within or result.nearest
    buttons = []
    offered = []
    for place in found:
        link, by_bot = await _invite_link(bot, session, place)
        if link is not None:
            buttons.append([InlineKeyboardButton(text=_join_label(place), url=link)])
            if by_bot:
                offered.append(place.community.id)
    if offered:
        await nearby.offered(session, user.id, offered, now)
    await message.answer(
        words.nearby(result, settings.nearby_radius_km),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=buttons) if buttons else None,
    )


def _join_label(place: Nearby) -> str:
    return _("➕ Join {community}").format(community=place.community.name[:40])


async def _invite_link(bot: Bot, session: AsyncSession, place: Nearby) -> tuple[str | None, bool]:
    """The group's invite link, and whether the bot made it (then it approves who comes by it).
    A group without one gets one made, where the bot may invite."""
    community = place.community
    if community.invite_link:
        return community.invite_link, community.invite_link_by_bot
    try:
        made = await bot.create_chat_invite_link(
            community.chat_id, name=INVITE_NAME, creates_join_request=True
        )
    except TelegramAPIError:
        return None, False  # not a group admin with that right: ask the leader for a link
    await nearby.keep_invite_link(session, community.id, made.invite_link)
    return made.invite_link, True


async def where(
    message: Message,
    bot: Bot,
    session: AsyncSession,
    actor: Actor,
    user: UserRef,
    community: CommunityRef | None,
) -> None:
    """/where: the pickup point on the map — the group's, or (privately) those of your orders.
    A leader's /where in the group is pinned there."""
    if message.chat.type != "private":
        places = [community] if community is not None else []
    else:
        places = await joins.my_communities(session, user.id)
    located = [place for place in places if place.location is not None]
    if not located:
        await message.answer(
            _("The pickup point is not on the map yet: its leader can send it with /setpoint.")
        )
        return
    for place in located[:3]:
        assert place.location is not None
        sent = await message.answer_venue(
            latitude=place.location[0],
            longitude=place.location[1],
            title=place.name[:256],
            address=(place.point.full_address() or place.name)[:256],
        )
        if message.chat.type != "private" and community is not None and community.led_by(actor):
            with contextlib.suppress(TelegramAPIError):  # not allowed: the leader pins by hand
                await bot.pin_chat_message(
                    message.chat.id, sent.message_id, disable_notification=True
                )


def router() -> Router:
    """A fresh router (a router can belong to only one dispatcher)."""
    router = Router(name=__name__)
    router.message.register(location_shared, F.chat.type == "private", F.location)
    router.message.register(near, Command("near"))
    router.message.register(where, Command("where"))
    return router
