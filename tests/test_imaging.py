"""The pictures the bot draws and the photo rules it checks, read back as images."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from PIL import Image, ImageDraw

from bot.imaging.charts import ORDERS_COLOUR, ChartWords, SalesLine, draw_daily_chart
from bot.imaging.checks import MAX_BYTES, check_photo
from bot.imaging.drop_picture import GAP, PLAIN, TILE, TileImage, draw_drop_picture, tile_origin
from bot.imaging.fonts import font, font_has_cjk


def png(size: tuple[int, int], colour: tuple[int, int, int] = (200, 50, 50)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "refusal"),
    [
        (png((1280, 960)), None),
        (png((2000, 100)), None),  # 20:1 is still a photo
        (b"%PDF-1.7 not a picture", "not_image"),
        (png((2100, 100)), "too_narrow"),
        (png((9000, 1100)), "too_large"),
        (b"\xff" * (MAX_BYTES + 1), "too_big"),
    ],
)
def test_telegrams_photo_rules(data: bytes, refusal: str | None) -> None:
    assert check_photo(data).refusal == refusal


def colour_at(image: Image.Image, index: int, count: int) -> tuple[int, int, int]:
    x, y = tile_origin(index, count)
    pixel = image.getpixel((x + TILE * 3 // 4, y + TILE // 3))
    assert isinstance(pixel, tuple)
    return pixel[0], pixel[1], pixel[2]


def close(a: tuple[int, int, int], b: tuple[int, int, int]) -> bool:
    return all(abs(x - y) <= 24 for x, y in zip(a, b, strict=True))


def test_drop_picture_tiles_are_in_item_order() -> None:
    photos = {3: (20, 40, 220), 7: (30, 180, 60)}
    tiles = [
        TileImage(n, f"商品 {n}", "¥12.50", png((800, 600), photos[n]) if n in photos else None)
        for n in range(1, 11)
    ]
    with Image.open(io.BytesIO(draw_drop_picture(tiles))) as image:
        assert image.format == "JPEG"
        # Ten tiles: four columns, three rows.
        assert image.size == (GAP + 4 * (TILE + GAP), GAP + 3 * (TILE + GAP))
        rgb = image.convert("RGB")
        for index in range(10):
            number = index + 1
            expected = photos.get(number, PLAIN[(number - 1) % len(PLAIN)])
            assert close(colour_at(rgb, index, 10), expected), number


def test_a_photo_that_will_not_open_gets_a_plain_tile() -> None:
    tiles = [TileImage(1, "Eggs", "¥1", b"broken"), TileImage(2, "Milk", "¥2", None)]
    with Image.open(io.BytesIO(draw_drop_picture(tiles))) as image:
        assert close(colour_at(image.convert("RGB"), 0, 2), PLAIN[0])


def bars_in(chart: bytes) -> int:
    """The bars of a chart: runs of the bars' colour along a row just above the x axis."""
    target = tuple(int(ORDERS_COLOUR[i : i + 2], 16) for i in (1, 3, 5))
    with Image.open(io.BytesIO(chart)) as opened:
        image = opened.convert("RGB")
    width, height = image.size
    rows = [
        y
        for y in range(height)
        if any(image.getpixel((x, y)) == target for x in range(0, width, 2))
    ]
    y = max(rows) - 2
    runs, inside = 0, False
    for x in range(width):
        hit = image.getpixel((x, y)) == target
        runs += hit and not inside
        inside = hit
    return runs


@pytest.mark.parametrize("days", [7, 30])
def test_a_chart_has_a_bar_a_day(days: int) -> None:
    dates = [date(2026, 11, 1) + timedelta(days=n) for n in range(days)]
    orders = [1 + n % 5 for n in range(days)]
    lines = [SalesLine("全部", [10.0 + n for n in range(days)]), SalesLine("River", [5.0] * days)]
    words = ChartWords("订单与销售额", "订单", "销售额")
    chart = draw_daily_chart(dates, orders, lines, words)
    with Image.open(io.BytesIO(chart)) as image:
        assert image.format == "PNG"
        assert image.size == (900, 480)
    assert bars_in(chart) == days


@pytest.mark.skipif(not font_has_cjk(), reason="no CJK font: apt-get install fonts-noto-cjk")
def test_chinese_names_draw_as_glyphs_not_boxes() -> None:
    """Two different characters look different (a font without them draws the same box)."""

    def drawn(text: str) -> bytes:
        image = Image.new("L", (60, 60), 0)
        ImageDraw.Draw(image).text((5, 5), text, font=font(40), fill=255)
        return image.tobytes()

    assert drawn("商") != drawn("品")
    assert any(drawn("蛋"))
