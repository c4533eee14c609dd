"""Telegram's HTML parse mode: validated like the Bot API does, turned into text and entities.

Supported: b strong i em u ins s strike del span.tg-spoiler tg-spoiler a[href] code pre
blockquote tg-emoji, the named entities &lt; &gt; &amp; &quot; and numeric ones. Anything else is
a 400 "can't parse entities" from Telegram. This parser is stricter than Telegram on one point:
a bare "&" that starts no entity is an error, because it means the bot forgot to escape text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^>]*)?)\s*/?>")
_CANT = "Bad Request: can't parse entities: "
_ATTR = re.compile(r"""([a-zA-Z-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")


class EntityParseError(ValueError):
    pass


@dataclass
class _Open:
    tag: str
    offset: int
    attrs: dict[str, str] = field(default_factory=dict)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Return (plain text, entities) or raise EntityParseError with Telegram's wording."""
    out: list[str] = []
    length = 0  # in UTF-16 code units, as Telegram counts offsets
    stack: list[_Open] = []
    entities: list[dict[str, Any]] = []
    position = 0
    while position < len(source):
        char = source[position]
        if char == "<":
            match = _TAG.match(source, position)
            byte_offset = len(source[:position].encode())
            if match is None:
                raise EntityParseError(f"{_CANT}Unclosed start tag at byte offset {byte_offset}")
            closing, name, raw_attrs = match.group(1), match.group(2).lower(), match.group(3)
            if name not in _TAGS:
                kind = "end" if closing else "start"
                raise EntityParseError(
                    f'Bad Request: can\'t parse entities: Unsupported {kind} tag "{name}" '
                    f"at byte offset {byte_offset}"
                )
            if closing:
                if not stack:
                    raise EntityParseError(
                        f"{_CANT}Unexpected end tag at byte offset {byte_offset}"
                    )
                top = stack.pop()
                if top.tag != name:
                    raise EntityParseError(
                        f"Bad Request: can't parse entities: Unmatched end tag at byte offset "
                        f'{byte_offset}, expected "</{top.tag}>", found "</{name}>"'
                    )
                if length > top.offset:
                    entities.append(_entity(top, length - top.offset))
            else:
                attrs = {
                    key.lower(): next((v for v in values if v is not None), "")
                    for key, *values in _ATTR.findall(raw_attrs or "")
                }
                if name == "a" and not attrs.get("href"):
                    raise EntityParseError(
                        "Bad Request: can't parse entities: Can't find a link URL in tag a"
                    )
                if name == "span" and attrs.get("class") != "tg-spoiler":
                    raise EntityParseError(
                        f'Bad Request: can\'t parse entities: Unsupported start tag "span" '
                        f"at byte offset {byte_offset}"
                    )
                stack.append(_Open(name, length, attrs))
            position = match.end()
            continue
        if char == "&":
            end = source.find(";", position, position + 12)
            name = source[position + 1 : end] if end != -1 else ""
            decoded = _decode_entity(name)
            if decoded is None:
                raise EntityParseError(
                    "Bad Request: can't parse entities: Character '&' is reserved and must be "
                    f"escaped with &amp; (byte offset {len(source[:position].encode())})"
                )
            out.append(decoded)
            length += utf16_len(decoded)
            position = end + 1
            continue
        out.append(char)
        length += utf16_len(char)
        position += 1
    if stack:
        raise EntityParseError(
            f'{_CANT}Can\'t find end tag corresponding to start tag "{stack[-1].tag}"'
        )
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _decode_entity(name: str) -> str | None:
    if name in _NAMED:
        return _NAMED[name]
    try:
        if name.startswith(("#x", "#X")):
            return chr(int(name[2:], 16))
        if name.startswith("#"):
            return chr(int(name[1:]))
    except (ValueError, OverflowError):
        return None
    return None


def _entity(opened: _Open, length: int) -> dict[str, Any]:
    entity: dict[str, Any] = {"type": _TAGS[opened.tag], "offset": opened.offset, "length": length}
    if opened.tag == "a":
        entity["url"] = opened.attrs["href"]
    if opened.tag == "tg-emoji":
        entity["custom_emoji_id"] = opened.attrs.get("emoji-id", "")
    return entity
