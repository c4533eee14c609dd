"""Time left, as a reply says it (exact) and as a live post says it (coarse, rounded down)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.formatting import coarse_time_left, esc, quote, split_message, time_left, utf16_len
from bot.i18n import Catalogs
from bot.sandbox.html import parse_html

CATALOGS = Catalogs("en")
NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("left", "exact", "coarse"),
    [
        (timedelta(0), "closing now", "closing now"),
        (timedelta(seconds=42), "42s left", "closing soon"),
        (timedelta(minutes=4, seconds=59), "4m left", "closing soon"),
        (timedelta(minutes=9, seconds=59), "9m left", "5m left"),
        (timedelta(minutes=59), "59m left", "55m left"),
        (timedelta(hours=1, minutes=14), "1h 14m left", "1h 0m left"),
        (timedelta(hours=2, minutes=44), "2h 44m left", "2h 30m left"),
        (timedelta(days=1, hours=3, minutes=59), "1d 3h left", "1d 3h left"),
    ],
)
def test_time_left_is_exact_in_replies_and_coarse_on_live_posts(
    left: timedelta, exact: str, coarse: str
) -> None:
    with CATALOGS.context(), CATALOGS.use_locale("en"):
        assert time_left(NOW + left, NOW) == exact
        assert coarse_time_left(NOW + left, NOW) == coarse


# -- Long messages: split on the shown text, never inside an entity or a tag ------------------

TAGS = ["b", "i", "u", "s", "code", 'a href="https://t.me/tuan_bot?start=x&amp;y"']
TEXT = st.text(alphabet=st.sampled_from([*"ab &<>\"'\n—团购😀🥚", "&", "&", "\n"]), max_size=60)


@st.composite
def documents(draw: st.DrawFn, depth: int = 2) -> str:
    """Our kind of HTML: escaped text, and tags around some of it (nested a little)."""
    pieces = []
    for _ in range(draw(st.integers(1, 6))):
        if depth and draw(st.booleans()):
            tag = draw(st.sampled_from(TAGS))
            inner = draw(documents(depth - 1))
            pieces.append(f"<{tag}>{inner}</{tag.split()[0]}>")
        else:
            pieces.append(esc(draw(TEXT)))
    return "".join(pieces)


def visible(html_text: str) -> list[tuple[str, frozenset[str]]]:
    """Each character Telegram shows (not blanks), with the entities covering it."""
    text, entities = parse_html(html_text)
    out = []
    unit = 0
    for char in text:
        covering = frozenset(
            e["type"] + e.get("url", "")
            for e in entities
            if e["offset"] <= unit < e["offset"] + e["length"]
        )
        if not char.isspace():
            out.append((char, covering))
        unit += utf16_len(char)
    return out


@settings(max_examples=300, derandomize=True, deadline=None)
@given(document=documents(), limit=st.integers(2, 120))
def test_long_messages_split_into_valid_parts_that_keep_every_character_and_format(
    document: str, limit: int
) -> None:
    parts = split_message(document, limit)
    for part in parts:
        text, _ = parse_html(part)  # Telegram's parser accepts every part
        assert text.strip()
        assert utf16_len(text) <= limit
    # Nothing shown is lost or repeated (only blanks at the cuts), and each keeps its format.
    assert [shown for part in parts for shown in visible(part)] == visible(document)


def test_a_broadcast_of_ampersands_splits_into_parts_telegram_accepts() -> None:
    parts = split_message(esc("&" * 5000))
    assert len(parts) == 2
    for part in parts:
        text, _ = parse_html(part)
        assert set(text) == {"&"} and utf16_len(text) <= 4096


def test_a_quote_of_what_the_user_typed_is_short_and_escaped() -> None:
    assert quote("x" * 4000) == "x" * 59 + "…"
    assert quote("a <b>\n& c") == "a &lt;b&gt; &amp; c"
