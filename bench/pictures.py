"""pictures: how long the bot takes to draw a drop picture and a chart.

The drop picture is drawn from `--items` (default 10) product photos the size Telegram keeps
(1280×960 JPEGs, each a different picture), with Chinese names and prices, into the JPEG one
upload carries to every group. The chart is `/report`'s: 30 days of orders as bars and four lines
of sales (the platform and three communities). Each is drawn `--runs` times (default 20); the
first chart also pays for importing matplotlib, reported apart. Telegram's own time (the upload)
is not in these figures: it happens once per drop, however many groups.

The last line is:
    pictures: drop picture (<items> items) p50 <a> ms max <b> ms, <kb> KB; chart p50 <c> ms
              max <d> ms, first <e> ms (with matplotlib's import)
(on one line).

`--save PATH` also writes the drop picture there (the README's example is drawn this way).

Usage: python bench/pictures.py [--items 10] [--runs 20] [--save PATH]
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image, ImageDraw

from bot.imaging.charts import ChartWords, SalesLine, draw_daily_chart
from bot.imaging.drop_picture import TileImage, draw_drop_picture

NAMES = [
    "散养土鸡蛋 30枚",
    "鲜牛奶 1L",
    "五常大米 5kg",
    "阳山水蜜桃",
    "Fresh apples",
    "香蕉 一把",
    "西兰花",
    "Sourdough loaf",
    "草莓 500g",
    "橙子 5斤",
]
# Stand-in products: a background and a heap of round things of the product's colour.
COLOURS = [
    ((236, 222, 200), (245, 235, 215)),
    ((210, 230, 245), (250, 250, 250)),
    ((240, 236, 225), (252, 250, 245)),
    ((250, 225, 225), (248, 170, 160)),
    ((225, 240, 215), (200, 40, 40)),
    ((250, 245, 210), (250, 215, 60)),
    ((225, 240, 225), (60, 140, 60)),
    ((240, 225, 205), (180, 120, 60)),
    ((250, 230, 235), (220, 30, 60)),
    ((250, 238, 215), (250, 150, 30)),
]


def product_photo(seed: int) -> bytes:
    """A 1280×960 JPEG with grain and shapes, so it decodes and compresses like a photo."""
    rng = random.Random(seed)
    background, product = COLOURS[seed % len(COLOURS)]
    image = Image.new("RGB", (1280, 960), background)
    grain = Image.effect_noise((1280, 960), 18).convert("RGB")
    image = Image.blend(image, grain, 0.08)
    draw = ImageDraw.Draw(image)
    for _ in range(28):
        x, y = rng.randrange(200, 1000), rng.randrange(250, 800)
        size = rng.randrange(140, 260)
        shade = tuple(max(0, min(255, c + rng.randrange(-30, 30))) for c in product)
        draw.ellipse((x, y, x + size, y + size * 4 // 5), fill=shade, outline=(90, 70, 50))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def timed(call: object) -> float:
    start = time.perf_counter()
    call()  # type: ignore[operator]
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--save", type=Path, default=None)
    args = parser.parse_args()

    tiles = [
        TileImage(
            n,
            NAMES[(n - 1) % len(NAMES)],
            f"¥{n * 3 + 9}.50",
            None if n == 7 else product_photo(n - 1),  # one without a photo: a plain tile
        )
        for n in range(1, args.items + 1)
    ]
    days = [date(2026, 11, 1) + timedelta(days=n) for n in range(30)]
    rng = random.Random(7)
    orders = [rng.randrange(20, 120) for _ in days]
    lines = [
        SalesLine(name, [rng.uniform(200, 3000) for _ in days])
        for name in ("平台", "阳光花园", "River Court", "幸福里")
    ]
    words = ChartWords("订单与销售额（近 30 天）", "订单", "销售额（CNY）")

    first_chart = timed(lambda: draw_daily_chart(days, orders, lines, words))
    pictures = [timed(lambda: draw_drop_picture(tiles)) for _ in range(args.runs)]
    charts = [timed(lambda: draw_daily_chart(days, orders, lines, words)) for _ in range(args.runs)]
    picture = draw_drop_picture(tiles)
    size = len(picture) / 1024
    if args.save is not None:
        args.save.write_bytes(picture)
    print(
        f"pictures: drop picture ({args.items} items) p50 {statistics.median(pictures):.0f} ms "
        f"max {max(pictures):.0f} ms, {size:.0f} KB; chart p50 {statistics.median(charts):.0f} ms "
        f"max {max(charts):.0f} ms, first {first_chart:.0f} ms (with matplotlib's import)"
    )


if __name__ == "__main__":
    main()
