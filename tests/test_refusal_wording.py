"""Every domain refusal has a wording, in English and in Chinese."""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from datetime import UTC, date, datetime
from typing import Any

import pytest

import bot.services.pickup.point  # noqa: F401  (BadPointField)
from bot.i18n import Catalogs
from bot.services.kernel.errors import DomainError
from bot.services.ordering.drop_format import DropFormatError, Problem
from handlers.refusals import explain

CJK = re.compile(r"[\u4e00-\u9fff]")
SAMPLE: dict[Any, Any] = {
    str: "Eggs",
    int: 3,
    date: date(2026, 11, 25),
    datetime: datetime(2026, 11, 25, 10, tzinfo=UTC),
    list[str]: ["Eggs", "Milk"],
}


def every_refusal() -> list[DomainError]:
    found: list[type[DomainError]] = []
    todo = [DomainError]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            found.append(sub)
            todo.append(sub)
    made: list[DomainError] = []
    for cls in sorted(set(found), key=lambda c: c.__name__):
        if cls is DropFormatError:
            made += [DropFormatError(2, problem, "x") for problem in Problem]
            continue
        hints = typing.get_type_hints(cls)
        values = {}
        for field in dataclasses.fields(cls):  # type: ignore[arg-type]
            hint = hints[field.name]
            if isinstance(hint, types.UnionType):  # X | None: the value, not None
                hint = next(arg for arg in typing.get_args(hint) if arg is not type(None))
            values[field.name] = "Asia/Shanghai" if field.name == "timezone" else SAMPLE[hint]
        made.append(cls(**values))
    return made


@pytest.mark.parametrize("error", every_refusal(), ids=lambda e: type(e).__name__)
def test_every_refusal_is_worded_in_both_languages(error: DomainError) -> None:
    catalogs = Catalogs("en")
    worded = {}
    for language in ("en", "zh"):
        with catalogs.context(), catalogs.use_locale(language):
            worded[language] = explain(error)
    assert worded["en"], f"{type(error).__name__} has no wording"
    assert worded["zh"] and CJK.search(worded["zh"]), f"{type(error).__name__}: {worded['zh']}"
    assert not CJK.search(worded["en"])
