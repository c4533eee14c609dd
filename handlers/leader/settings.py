"""/settings: a community's language, time zone, deadline nudges and pickup reminder time.

/settings                       shows them
/settings language=zh timezone=Asia/Shanghai nudges=60m,15m reminder=19:00
/settings nudges=off reminder=off
"""

from __future__ import annotations

import re
from functools import cache
from zoneinfo import available_timezones

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import LANGUAGES
from bot.formatting import esc, quote
from bot.services.community import communities
from bot.services.community.communities import CommunityRef, SettingsChange
from bot.services.community.people import Actor
from handlers.leader.scope import led_community
from handlers.parsing import BadUsage, clock_time
from handlers.texts.books import rate

USAGE = (
    "/settings [language=en|zh] [timezone=Area/City] [nudges=60m,15m|off] "
    "[reminder=HH:MM|off] [commission=10%]"
)
_PERCENT = re.compile(r"^(\d{1,3})(?:\.(\d{1,2}))?%?$")
_DURATION = re.compile(r"^(\d{1,5})\s*([smh]?)$")
MAX_NUDGE = 7 * 24 * 3600


@cache
def time_zones() -> frozenset[str]:
    """The IANA zones this machine knows (a folder such as "Europe" is not one)."""
    return frozenset(available_timezones())


def duration(text: str) -> int | None:
    """ "60m", "1h", "90s", "15" (minutes) → seconds."""
    match = _DURATION.match(text.strip().lower())
    if not match:
        return None
    amount, unit = int(match.group(1)), match.group(2) or "m"
    seconds = amount * {"s": 1, "m": 60, "h": 3600}[unit]
    return seconds if 0 < seconds <= MAX_NUDGE else None


def percent(text: str) -> int | None:
    """ "8.5%" → 850 basis points; None unless 0–100 % with at most two decimals."""
    match = _PERCENT.match(text.strip())
    if not match:
        return None
    points = int(match.group(1)) * 100 + int((match.group(2) or "0").ljust(2, "0"))
    return points if points <= 10_000 else None


def parse(args: str) -> SettingsChange:
    values: dict[str, object] = {}
    for token in args.split():
        key, sep, value = token.partition("=")
        key = key.lower()
        if not sep or not value:
            raise BadUsage(USAGE, _("“{token}” is not a setting.").format(token=quote(token)))
        if key == "language":
            if value not in LANGUAGES:
                raise BadUsage(USAGE, _("The language is en or zh."))
            values["language"] = value
        elif key == "timezone":
            if value not in time_zones():
                raise BadUsage(
                    USAGE,
                    _("“{value}” is not a time zone, e.g. Asia/Shanghai.").format(
                        value=quote(value)
                    ),
                )
            values["timezone"] = value
        elif key == "nudges":
            if value.lower() == "off":
                values["first_nudge"], values["second_nudge"] = 0, 0
                continue
            moments = [duration(part) for part in value.split(",")]
            if not 1 <= len(moments) <= 2 or any(m is None for m in moments):
                raise BadUsage(
                    USAGE, _("Nudges are one or two times before the deadline, e.g. 60m,15m.")
                )
            first, second = sorted((m or 0 for m in moments), reverse=True) + [0] * (
                2 - len(moments)
            )
            values["first_nudge"], values["second_nudge"] = first, second
        elif key == "reminder":
            if value.lower() == "off":
                values["reminder_time"] = ""
            elif (at := clock_time(value)) is not None:
                values["reminder_time"] = at.strftime("%H:%M")
            else:
                raise BadUsage(USAGE, _("The reminder is a local time like 19:00, or off."))
        elif key == "commission":
            rate = percent(value)
            if rate is None:
                raise BadUsage(
                    USAGE, _("The commission is a percentage from 0 to 100, e.g. 10% or 8.5%.")
                )
            values["commission_rate"] = rate
        else:
            raise BadUsage(USAGE, _("Unknown setting “{key}”.").format(key=quote(key)))
    return SettingsChange(**values)  # type: ignore[arg-type]


def _moment(seconds: int) -> str:
    if seconds % 3600 == 0:
        return _("{hours}h").format(hours=seconds // 3600)
    if seconds % 60 == 0:
        return _("{minutes}m").format(minutes=seconds // 60)
    return _("{seconds}s").format(seconds=seconds)


def describe(community: CommunityRef) -> str:
    nudges = [n for n in (community.first_nudge, community.second_nudge) if n]
    return "\n".join(
        [
            _("⚙️ <b>Settings of {community}</b>").format(community=esc(community.name)),
            _("language: {language}").format(language=community.language),
            _("time zone: {timezone}").format(timezone=esc(community.timezone)),
            _("deadline nudges: {moments} before the deadline").format(
                moments=", ".join(_moment(n) for n in nudges)
            )
            if nudges
            else _("deadline nudges: off"),
            _("pickup reminder: {time} local time").format(time=community.reminder_time)
            if community.reminder_time
            else _("pickup reminder: off"),
            _("leader commission: {rate} (set by the platform)").format(
                rate=rate(community.commission_rate)
            ),
            "",
            _("Change: <code>{usage}</code>").format(usage=esc(USAGE)),
        ]
    )


async def show_or_change(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    actor: Actor,
    community: CommunityRef | None,
    leads: tuple[CommunityRef, ...],
    i18n: I18n,
) -> None:
    where = led_community(message, actor, community, leads)
    args = (command.args or "").strip()
    if not args:
        await message.reply(describe(where))
        return
    changed = await communities.update_settings(session, actor, where, parse(args))
    if message.chat.type == "private" or changed.language == where.language:
        await message.reply(describe(changed))
        return
    with i18n.use_locale(changed.language):  # the group hears its new language at once
        await message.reply(describe(changed))


def router() -> Router:
    """A fresh router (a router can belong to only one dispatcher)."""
    router = Router(name=__name__)
    router.message.register(show_or_change, Command("settings"))
    return router
