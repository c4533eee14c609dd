"""Time left, as a reply says it (exact) and as a live post says it (coarse, rounded down)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.formatting import coarse_time_left, time_left
from bot.i18n import Catalogs

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
