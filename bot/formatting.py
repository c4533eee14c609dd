"""How amounts, times and items read in messages. Uses the current locale's gettext."""

from __future__ import annotations

import html
from datetime import date, datetime
from html.parser import HTMLParser
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


MESSAGE_LIMIT = 4096  # a message's text, in UTF-16 code units after entity parsing
CAPTION_LIMIT = 1024
QUOTE_LIMIT = 60  # what a reply quotes back of what the user typed


def clip(text: str, limit: int) -> str:
    """Plain text of at most `limit` characters: shortened with "…" when longer."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def quote(value: object, limit: int = QUOTE_LIMIT) -> str:
    """What the user typed, as a reply may quote it: on one line, at most `limit` characters
    (shortened with "…"), escaped for HTML. Every echo of user input goes through here, so a
    reply stays short whatever was typed."""
    return esc(clip(" ".join(str(value).split()), limit))


def plain_text(html_text: str) -> str:
    """The text Telegram shows for our HTML (tags dropped, entities read)."""
    return "".join(text for text, _ in _runs(html_text))


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split HTML into parts Telegram accepts: each part's shown text at most `limit` UTF-16
    units, cut at a line break where there is one (else a space, else anywhere), never inside an
    entity (`&amp;`) or a tag, and with its tags balanced (a tag open across a cut is closed before
    it and opened again after it). Parts with nothing to show are dropped."""
    runs = _runs(text)
    plain = "".join(run for run, _ in runs)
    if utf16_len(plain) <= limit:
        return [text] if plain.strip() else []
    parts = []
    for start, end in _cuts(plain, limit):
        part = _render(runs, start, end)
        if plain[start:end].strip():
            parts.append(part)
    return parts


def shorten(text: str, limit: int) -> str:
    """HTML whose shown text fits `limit` (an edit or a caption cannot be split): the first part,
    with "…" when something was left out."""
    parts = split_message(text, limit - 1)
    if len(parts) <= 1:
        return parts[0] if parts else text
    return parts[0].rstrip() + "…"


Tag = tuple[str, str]  # (name, the opening tag as written)


class _Runs(HTMLParser):
    """Our HTML as runs of shown text, each with the tags open around it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.runs: list[tuple[str, tuple[Tag, ...]]] = []
        self.open: list[Tag] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        written = "".join(
            f' {key}="{html.escape(value or "", quote=True)}"' for key, value in attrs
        )
        self.open.append((tag, f"<{tag}{written}>"))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.open) - 1, -1, -1):
            if self.open[index][0] == tag:
                del self.open[index]
                return

    def handle_data(self, data: str) -> None:
        self.runs.append((data, tuple(self.open)))


def _runs(html_text: str) -> list[tuple[str, tuple[Tag, ...]]]:
    parser = _Runs()
    parser.feed(html_text)
    parser.close()
    return parser.runs


def _cuts(plain: str, limit: int) -> list[tuple[int, int]]:
    """Where each part starts and ends in the shown text."""
    cuts = []
    start = 0
    while start < len(plain):
        end, size = start, 0
        while end < len(plain) and size + utf16_len(plain[end]) <= limit:
            size += utf16_len(plain[end])
            end += 1
        if end < len(plain):
            window = plain[start:end]
            for separator in ("\n", " "):
                at = window.rfind(separator)
                if at > 0:
                    end = start + at + 1  # the separator ends this part
                    break
        cuts.append((start, end))
        start = end
    return cuts


def _render(runs: list[tuple[str, tuple[Tag, ...]]], start: int, end: int) -> str:
    """The runs' text between `start` and `end` as HTML, with balanced tags."""
    out: list[str] = []
    open_now: tuple[Tag, ...] = ()
    position = 0
    for text, tags in runs:
        low, high = max(start, position), min(end, position + len(text))
        position += len(text)
        if low >= high:
            continue
        shared = 0
        while shared < min(len(open_now), len(tags)) and open_now[shared] == tags[shared]:
            shared += 1
        out += [f"</{name}>" for name, _ in reversed(open_now[shared:])]
        out += [written for _, written in tags[shared:]]
        open_now = tags
        out.append(esc(text[low - (position - len(text)) : high - (position - len(text))]))
    out += [f"</{name}>" for name, _ in reversed(open_now)]
    return "".join(out)
