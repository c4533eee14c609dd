"""Reading command arguments. A malformed command raises `BadUsage` with the right form, which
`handlers.refusals` turns into a reply; nothing is changed."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, time
from typing import TypeVar

from aiogram.filters import CommandObject
from aiogram.types import Message


class BadUsage(Exception):
    """`usage` is the localized right form of the command; `problem` what was wrong."""

    def __init__(self, usage: str, problem: str | None = None) -> None:
        super().__init__(usage)
        self.usage = usage
        self.problem = problem


class WrongPlace(Exception):
    """The command works in a group (`needs="group"`) or in a private chat (`needs="private"`)."""

    def __init__(self, command: str, needs: str) -> None:
        super().__init__(command)
        self.command = command
        self.needs = needs


T = TypeVar("T")


def words(command: CommandObject) -> list[str]:
    return (command.args or "").split()


def optional_arg(
    command: CommandObject, parse: Callable[[str], T | None], usage: str, problem: str
) -> T | None:
    """The command's one optional argument, parsed; None without one. Two arguments, or one
    that does not parse, is `BadUsage(usage, problem)`."""
    args = words(command)
    if not args:
        return None
    value = parse(args[0]) if len(args) == 1 else None
    if value is None:
        raise BadUsage(usage, problem)
    return value


def need_group(message: Message, command: str) -> None:
    if message.chat.type == "private":
        raise WrongPlace(command, "group")


def need_private(message: Message, command: str) -> None:
    if message.chat.type != "private":
        raise WrongPlace(command, "private")


def positive_int(text: str) -> int | None:
    text = text.strip().lstrip("#")
    if not re.fullmatch(r"\d{1,9}", text):
        return None
    value = int(text)
    return value if value >= 1 else None


def clock_time(text: str) -> time | None:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", text.strip())
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        return None
    return time(int(match.group(1)), int(match.group(2)))


# Dates a command may name: far enough either way for any real business, near enough that a day
# or a month after it is still a date (9999-12-31 + 1 day is not).
FIRST_YEAR, LAST_YEAR = 2000, 2100


def iso_date(text: str) -> date | None:
    """YYYY-MM-DD between FIRST_YEAR and LAST_YEAR; None otherwise."""
    try:
        value = date.fromisoformat(text.strip())
    except ValueError:
        return None
    return value if FIRST_YEAR <= value.year <= LAST_YEAR else None


def year_month(text: str) -> date | None:
    """YYYY-MM between FIRST_YEAR and LAST_YEAR, as its first day; None otherwise."""
    match = re.fullmatch(r"([0-9]{4})-([0-9]{1,2})", text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        return None
    year = int(match.group(1))
    return date(year, int(match.group(2)), 1) if FIRST_YEAR <= year <= LAST_YEAR else None
