"""The /drop text format of the chat contract."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from bot.services.ordering.drop_format import (
    MAX_ITEMS,
    Deadline,
    DropFormatError,
    Problem,
    parse_drop,
    parse_price,
)


def test_header_defaults_apply_to_items_and_item_options_override() -> None:
    spec = parse_drop(
        "/drop deadline=+2h min=3 limit=2 pickup=tomorrow\n"
        "Eggs <free-range> & fresh | 12.5 | box\n"
        "Milk | 8 | min=5 | limit=1 | stock=40 | noreturn | nopoints\n"
    )
    assert spec.deadline == Deadline(after=timedelta(hours=2))
    assert spec.pickup.relative == "tomorrow"
    eggs, milk = spec.items
    assert (eggs.name, eggs.price, eggs.unit) == ("Eggs <free-range> & fresh", 1250, "box")
    assert (eggs.min_members, eggs.purchase_limit, eggs.stock) == (3, 2, None)
    assert (eggs.returnable, eggs.earns_points) == (True, True)
    assert (milk.unit, milk.min_members, milk.purchase_limit, milk.stock) == (None, 5, 1, 40)
    assert (milk.returnable, milk.earns_points) == (False, False)


def test_defaults_without_header_are_24_hours_and_one_member() -> None:
    spec = parse_drop("/drop\nApples | 3")
    assert spec.deadline.after == timedelta(hours=24)
    assert spec.pickup.on is None
    assert spec.pickup.relative is None
    assert spec.items[0].min_members == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("deadline=18:30", Deadline(at=time(18, 30))),
        ("deadline=+45m", Deadline(after=timedelta(minutes=45))),
        ("deadline=+30s", Deadline(after=timedelta(seconds=30))),
        ("deadline=+2d", Deadline(after=timedelta(days=2))),
    ],
)
def test_deadline_forms(text: str, expected: Deadline) -> None:
    assert parse_drop(f"/drop {text}\nA | 1").deadline == expected


def test_deadline_spec_round_trips() -> None:
    for spec in ("+2h", "+45m", "+30s", "+2d", "18:30", "+90m"):
        assert Deadline.parse(spec).spec in {spec, "+90m"}
    assert Deadline.parse("+120m").spec == "+2h"


def test_full_width_punctuation_from_a_chinese_keyboard() -> None:
    spec = parse_drop("/drop min＝２ pickup=明天\n鸡蛋｜１２.５０｜盒｜limit＝３")
    item = spec.items[0]
    assert (item.name, item.price, item.unit, item.min_members, item.purchase_limit) == (
        "鸡蛋",
        1250,
        "盒",
        2,
        3,
    )
    assert spec.pickup.relative == "tomorrow"


def test_fixed_pickup_date() -> None:
    assert parse_drop("/drop pickup=2026-12-01\nA | 1").pickup.on == date(2026, 12, 1)


@pytest.mark.parametrize(
    ("price", "minor"), [("12", 1200), ("12.5", 1250), ("0.01", 1), ("¥3.20", 320), ("7元", 700)]
)
def test_prices_become_minor_units(price: str, minor: int) -> None:
    assert parse_price(price) == minor


@pytest.mark.parametrize("price", ["0", "1.234", "abc", "-3", "1,5", "", "99999999999"])
def test_bad_prices(price: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the value is what matters
        parse_price(price)


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("/drop", 1, Problem.NO_ITEMS),
        ("/drop deadline=25:00\nA | 1", 1, Problem.BAD_DEADLINE),
        ("/drop deadline=+0h\nA | 1", 1, Problem.BAD_DEADLINE),
        ("/drop deadline=+31d\nA | 1", 1, Problem.BAD_DEADLINE),
        ("/drop pickup=someday\nA | 1", 1, Problem.BAD_PICKUP),
        ("/drop colour=red\nA | 1", 1, Problem.UNKNOWN_OPTION),
        ("/drop Eggs | 12\nA | 1", 1, Problem.BAD_HEADER),
        ("/drop min=2 min=3\nA | 1", 1, Problem.DUPLICATE_OPTION),
        ("/drop min=0\nA | 1", 1, Problem.BAD_COUNT),
        ("/drop\nEggs", 2, Problem.MISSING_PRICE),
        ("/drop\nEggs | twelve", 2, Problem.BAD_PRICE),
        ("/drop\n | 12", 2, Problem.EMPTY_NAME),
        ("/drop\nA | 1\nB | 2 | box | stock=-1", 3, Problem.BAD_COUNT),
        ("/drop\nA | 1 | box | colour=red", 2, Problem.UNKNOWN_OPTION),
        ("/drop\nA | 1 | min=2 | min=3", 2, Problem.DUPLICATE_OPTION),
        ("/drop\nA | 1 | box | kg", 2, Problem.UNKNOWN_OPTION),
        ("/drop\n" + "x" * 101 + " | 1", 2, Problem.NAME_TOO_LONG),
        ("/drop\nA | 1 | " + "u" * 17, 2, Problem.UNIT_TOO_LONG),
    ],
)
def test_errors_name_the_line_and_the_problem(text: str, line: int, problem: Problem) -> None:
    with pytest.raises(DropFormatError) as caught:
        parse_drop(text)
    assert (caught.value.line, caught.value.problem) == (line, problem)


def test_too_many_items() -> None:
    text = "/drop\n" + "\n".join(f"Item {n} | 1" for n in range(MAX_ITEMS + 1))
    with pytest.raises(DropFormatError) as caught:
        parse_drop(text)
    assert caught.value.problem is Problem.TOO_MANY_ITEMS


def test_blank_lines_and_bot_mention_are_ignored() -> None:
    spec = parse_drop("/drop@tuan_bot min=2\n\nA | 1\n\n   \nB | 2\n")
    assert [item.name for item in spec.items] == ["A", "B"]
