"""How amounts, times and items read in messages. Uses the current locale's gettext."""

from __future__ import annotations

import html
from datetime import date, datetime
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext


def esc(text: object) -> str:
    """Anything a user typed, made safe for HTML parse mode."""
    return html.escape(str(text), quote=False)


def money(minor: int, currency: str) -> str:
    sign = "-" if minor < 0 else ""
    whole, cents = divmod(abs(minor), 100)
    return f"{sign}{esc(currency)}{whole}.{cents:02d}"


def local_time(instant: datetime, tz: ZoneInfo, now: datetime | None = None) -> str:
    """ "18:00" today, else "11-25 18:00" (in the community's zone)."""
    local = instant.astimezone(tz)
    if now is not None and now.astimezone(tz).date() == local.date():
        return local.strftime("%H:%M")
    return local.strftime("%m-%d %H:%M")


def day(value: date) -> str:
    return value.strftime("%Y-%m-%d")


def time_left(deadline: datetime, now: datetime) -> str:
    seconds = int((deadline - now).total_seconds())
    if seconds <= 0:
        return _("closing now")
    if seconds < 60:
        return _("{seconds}s left").format(seconds=seconds)
    return _minutes_left(seconds // 60)


def _minutes_left(minutes: int) -> str:
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return _("{days}d {hours}h left").format(days=days, hours=hours)
    if hours:
        return _("{hours}h {minutes}m left").format(hours=hours, minutes=minutes)
    return _("{minutes}m left").format(minutes=minutes)


def coarse_time_left(deadline: datetime, now: datetime) -> str:
    """Time left for a message that is edited, not re-sent: it changes every quarter of an hour
    (every five minutes in the last hour), so a live post costs a few edits an hour, not one a
    minute. Rounded down, so it never promises more time than there is."""
    seconds = int((deadline - now).total_seconds())
    if seconds <= 0:
        return _("closing now")
    minutes = seconds // 60
    if minutes < 5:
        return _("closing soon")
    step = 5 if minutes < 60 else 15
    return _minutes_left(minutes - minutes % step)


def quantity(amount: int, unit: str | None) -> str:
    return f"×{amount}" + (f" {esc(unit)}" if unit else "")


def item_label(number: int, name: str) -> str:
    return f"#{number} <b>{esc(name)}</b>"


def progress(members: int, minimum: int) -> str:
    if members >= minimum:
        return ngettext(
            "{members}/{minimum} member ✅", "{members}/{minimum} members ✅", members
        ).format(members=members, minimum=minimum)
    return ngettext("{members}/{minimum} member", "{members}/{minimum} members", members).format(
        members=members, minimum=minimum
    )


def mention(user_id: int, name: str) -> str:
    return f'<a href="tg://user?id={user_id}">{esc(name)}</a>'


def utf16_len(text: str) -> int:
    """Telegram counts message length in UTF-16 code units (an emoji is often two)."""
    return len(text.encode("utf-16-le")) // 2


def split_message(text: str, limit: int = 4000) -> list[str]:
    """Split a long message on line boundaries into parts Telegram accepts (4096 at most).

    Every line of our messages is self-contained HTML, so cutting between lines keeps tags whole.
    Measuring the HTML (not the shorter text Telegram counts) leaves a safe margin.
    """
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for line in text.split("\n"):
        while utf16_len(line) > limit:  # one enormous line: cut it (only plain text is that long)
            if current:
                parts.append("\n".join(current))
                current, size = [], 0
            cut = limit // 2  # at most two units a character: always fits
            parts.append(line[:cut])
            line = line[cut:]
        length = utf16_len(line) + 1
        if size + length > limit and current:
            parts.append("\n".join(current))
            current, size = [], 0
        current.append(line)
        size += length
    if current and any(part.strip() for part in current):
        parts.append("\n".join(current))
    return parts or [text]
