"""The `/drop` text format of CHAT_CONTRACT.md, parsed into a `DropSpec`.

    /drop [deadline=HH:MM|+<number><s|m|h|d>] [min=N] [limit=N] [pickup=YYYY-MM-DD|today|tomorrow]
          [pay=now|pickup]
    <name> | <price> [| <unit>] [| min=N] [| limit=N] [| stock=N] [| return=48h|2d] [| noreturn]
        [| nopoints] [| desc=<a few words>]

Header options are defaults for every item; item options override them. Full-width punctuation
and digits (｜ ＝ １２) are accepted, because that is what a Chinese keyboard types. Names are kept
exactly as written (escaping is the renderer's job).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import date, time, timedelta
from enum import StrEnum

from bot.services.kernel.errors import DomainError

MAX_ITEMS = 50
MAX_NAME = 100
MAX_UNIT = 16
MAX_DESCRIPTION = 500
MAX_PRICE = 100_000_000  # 1,000,000.00 in minor units
MAX_COUNT = 100_000
MAX_DEADLINE_AFTER = timedelta(days=30)
DEFAULT_DEADLINE_AFTER = timedelta(hours=24)
DEFAULT_MIN_MEMBERS = 1
DEFAULT_RETURN_HOURS = 48
MAX_RETURN_HOURS = 30 * 24

_RELATIVE = re.compile(r"^\+(\d{1,7})([smhd])$")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")
_PRICE = re.compile(r"^(\d{1,9})(?:\.(\d{1,2}))?$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_CURRENCY_MARKS = "¥￥$€£元"
_PAY_WORDS = {"now": "now", "预付": "now", "pickup": "pickup", "到付": "pickup"}
_PICKUP_WORDS = {"today": "today", "今天": "today", "tomorrow": "tomorrow", "明天": "tomorrow"}


class Problem(StrEnum):
    NO_ITEMS = "no_items"
    TOO_MANY_ITEMS = "too_many_items"
    BAD_HEADER = "bad_header"
    UNKNOWN_OPTION = "unknown_option"
    DUPLICATE_OPTION = "duplicate_option"
    BAD_DEADLINE = "bad_deadline"
    BAD_PICKUP = "bad_pickup"
    BAD_COUNT = "bad_count"
    MISSING_PRICE = "missing_price"
    BAD_PRICE = "bad_price"
    EMPTY_NAME = "empty_name"
    NAME_TOO_LONG = "name_too_long"
    UNIT_TOO_LONG = "unit_too_long"
    BAD_RETURN_WINDOW = "bad_return_window"
    DESCRIPTION_TOO_LONG = "description_too_long"
    BAD_PAY = "bad_pay"


@dataclass(eq=False)
class DropFormatError(DomainError):
    line: int  # 1 is the /drop line itself
    problem: Problem
    value: str


@dataclass(frozen=True)
class Deadline:
    """Either a delay after posting, or a local wall-clock time in each community."""

    after: timedelta | None = None
    at: time | None = None

    @property
    def spec(self) -> str:
        if self.at is not None:
            return self.at.strftime("%H:%M")
        assert self.after is not None
        seconds = int(self.after.total_seconds())
        for suffix, size in (("d", 86400), ("h", 3600), ("m", 60)):
            if seconds % size == 0:
                return f"+{seconds // size}{suffix}"
        return f"+{seconds}s"

    @classmethod
    def parse(cls, text: str) -> Deadline:
        text = text.strip()
        if match := _RELATIVE.match(text):
            amount = int(match.group(1))
            delta = timedelta(**{_UNITS[match.group(2)]: amount})
            if amount < 1 or delta > MAX_DEADLINE_AFTER:
                raise ValueError(text)
            return cls(after=delta)
        if match := _CLOCK.match(text):
            hour, minute = int(match.group(1)), int(match.group(2))
            if hour > 23 or minute > 59:
                raise ValueError(text)
            return cls(at=time(hour, minute))
        raise ValueError(text)


@dataclass(frozen=True)
class Pickup:
    """A fixed date (`on`), "today"/"tomorrow" of posting, or neither (the day after deadline)."""

    on: date | None = None
    relative: str | None = None

    @property
    def spec(self) -> str | None:
        if self.on is not None:
            return self.on.isoformat()
        return self.relative

    @classmethod
    def parse(cls, text: str | None) -> Pickup:
        if text is None:
            return cls()
        word = _PICKUP_WORDS.get(text.strip().lower())
        if word is not None:
            return cls(relative=word)
        return cls(on=date.fromisoformat(text.strip()))


@dataclass(frozen=True)
class ItemSpec:
    name: str
    price: int  # minor units
    unit: str | None = None
    min_members: int = DEFAULT_MIN_MEMBERS
    purchase_limit: int | None = None
    stock: int | None = None
    returnable: bool = True
    earns_points: bool = True
    return_hours: int = DEFAULT_RETURN_HOURS
    description: str | None = None


@dataclass(frozen=True)
class DropSpec:
    deadline: Deadline
    pickup: Pickup
    items: tuple[ItemSpec, ...]
    pay: str | None = None  # "now" or "pickup"; None: the platform's default


def _normalize(token: str) -> str:
    return unicodedata.normalize("NFKC", token).strip()


def _count(line: int, key: str, value: str) -> int:
    if not re.fullmatch(r"\d{1,6}", value) or not 1 <= int(value) <= MAX_COUNT:
        raise DropFormatError(line, Problem.BAD_COUNT, f"{key}={value}")
    return int(value)


def _return_hours(line: int, value: str) -> int:
    """`48h` or `2d`: how long after pickup the item may be returned (1 hour to 30 days)."""
    match = re.fullmatch(r"(\d{1,4})([hd])", value.lower())
    hours = int(match.group(1)) * (24 if match.group(2) == "d" else 1) if match else 0
    if not 1 <= hours <= MAX_RETURN_HOURS:
        raise DropFormatError(line, Problem.BAD_RETURN_WINDOW, f"return={value}")
    return hours


def parse_price(text: str) -> int:
    """'12.5' -> 1250. Raises ValueError for anything but a positive amount with ≤ 2 decimals."""
    cleaned = _normalize(text).strip(_CURRENCY_MARKS).strip()
    match = _PRICE.match(cleaned)
    if not match:
        raise ValueError(text)
    minor = int(match.group(1)) * 100 + int((match.group(2) or "0").ljust(2, "0"))
    if not 0 < minor <= MAX_PRICE:
        raise ValueError(text)
    return minor


def _parse_header(tokens: list[str]) -> tuple[dict[str, str], Deadline, Pickup]:
    options: dict[str, str] = {}
    for raw in tokens:
        token = _normalize(raw)
        key, sep, value = token.partition("=")
        key = key.lower()
        if not sep or not value:
            raise DropFormatError(1, Problem.BAD_HEADER, raw)
        if key not in {"deadline", "min", "limit", "pickup", "pay"}:
            raise DropFormatError(1, Problem.UNKNOWN_OPTION, raw)
        if key in options:
            raise DropFormatError(1, Problem.DUPLICATE_OPTION, key)
        options[key] = value
    try:
        deadline = (
            Deadline.parse(options["deadline"])
            if "deadline" in options
            else Deadline(after=DEFAULT_DEADLINE_AFTER)
        )
    except ValueError:
        raise DropFormatError(1, Problem.BAD_DEADLINE, options["deadline"]) from None
    try:
        pickup = Pickup.parse(options.get("pickup"))
    except ValueError:
        raise DropFormatError(1, Problem.BAD_PICKUP, options["pickup"]) from None
    return options, deadline, pickup


def _parse_item(line_no: int, line: str, defaults: ItemSpec) -> ItemSpec:
    parts = [part.strip() for part in line.replace("｜", "|").split("|")]
    name = parts[0]
    if not name:
        raise DropFormatError(line_no, Problem.EMPTY_NAME, line)
    if len(name) > MAX_NAME:
        raise DropFormatError(line_no, Problem.NAME_TOO_LONG, name[:20] + "…")
    if len(parts) < 2 or not parts[1]:
        raise DropFormatError(line_no, Problem.MISSING_PRICE, name)
    try:
        price = parse_price(parts[1])
    except ValueError:
        raise DropFormatError(line_no, Problem.BAD_PRICE, parts[1]) from None

    item = replace(defaults, name=name, price=price)
    seen: set[str] = set()
    for position, raw in enumerate(parts[2:], start=2):
        token = _normalize(raw)
        key, sep, value = token.partition("=")
        key = key.lower()
        if not token:
            continue
        if sep and key == "desc":
            # Kept as typed (full-width punctuation included), only trimmed.
            words = raw.partition("=")[2].strip() if "=" in raw else value
            if "desc" in seen:
                raise DropFormatError(line_no, Problem.DUPLICATE_OPTION, key)
            seen.add("desc")
            if len(words) > MAX_DESCRIPTION:
                raise DropFormatError(line_no, Problem.DESCRIPTION_TOO_LONG, words[:20] + "…")
            item = replace(item, description=words or None)
        elif not sep and key == "noreturn":
            item = replace(item, returnable=False)
        elif not sep and key == "nopoints":
            item = replace(item, earns_points=False)
        elif sep and key == "return":
            if key in seen:
                raise DropFormatError(line_no, Problem.DUPLICATE_OPTION, key)
            seen.add(key)
            item = replace(item, return_hours=_return_hours(line_no, value))
        elif not sep and position == 2:
            if len(raw) > MAX_UNIT:
                raise DropFormatError(line_no, Problem.UNIT_TOO_LONG, raw)
            item = replace(item, unit=raw)
        elif sep and key in {"min", "limit", "stock"}:
            if key in seen:
                raise DropFormatError(line_no, Problem.DUPLICATE_OPTION, key)
            seen.add(key)
            count = _count(line_no, key, value)
            if key == "min":
                item = replace(item, min_members=count)
            elif key == "limit":
                item = replace(item, purchase_limit=count)
            else:
                item = replace(item, stock=count)
        else:
            raise DropFormatError(line_no, Problem.UNKNOWN_OPTION, raw)
    return item


def parse_drop(text: str) -> DropSpec:
    """Parse the whole message, `/drop` line included."""
    lines = text.replace("\r\n", "\n").split("\n")
    header = lines[0].split()
    if header and header[0].startswith("/"):
        header = header[1:]
    options, deadline, pickup = _parse_header(header)

    defaults = ItemSpec(name="", price=1)
    if "min" in options:
        defaults = replace(defaults, min_members=_count(1, "min", options["min"]))
    if "limit" in options:
        defaults = replace(defaults, purchase_limit=_count(1, "limit", options["limit"]))

    items = []
    for line_no, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        items.append(_parse_item(line_no, line.strip(), defaults))
        if len(items) > MAX_ITEMS:
            raise DropFormatError(line_no, Problem.TOO_MANY_ITEMS, str(MAX_ITEMS))
    if not items:
        raise DropFormatError(1, Problem.NO_ITEMS, "")
    pay = None
    if "pay" in options:
        pay = _PAY_WORDS.get(options["pay"].lower())
        if pay is None:
            raise DropFormatError(1, Problem.BAD_PAY, options["pay"])
    return DropSpec(deadline=deadline, pickup=pickup, items=tuple(items), pay=pay)
