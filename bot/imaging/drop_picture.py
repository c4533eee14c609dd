"""The drop picture: one image of every item, tiles numbered as the post numbers them.

A grid of square tiles in item order, left to right and top to bottom. A tile is the item's first
photo, cropped to fill it, with its number in a badge and its name and price on a band at the
bottom; an item without a photo gets a plain tile of its own colour with its name written large.
One picture costs a group one message, however many items the drop has.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageOps

from bot.imaging.fonts import Font, font

TILE = 320
GAP = 6
MAX_COLUMNS = 5
BACKGROUND = (245, 242, 235)
# Plain tiles: light colours that dark text reads well on, one per number in turn.
PLAIN = ((255, 224, 178), (200, 230, 201), (187, 222, 251), (248, 187, 208), (225, 190, 231))


@dataclass(frozen=True)
class TileImage:
    number: int
    name: str
    price: str  # worded by the caller ("¥12.50 / box")
    photo: bytes | None  # the item's first photo, as downloaded


def columns_for(count: int) -> int:
    return max(1, min(MAX_COLUMNS, math.ceil(math.sqrt(count))))


def tile_origin(index: int, count: int) -> tuple[int, int]:
    """Where tile `index` (0-based) starts: the tests read tiles back from here."""
    columns = columns_for(count)
    row, column = divmod(index, columns)
    return GAP + column * (TILE + GAP), GAP + row * (TILE + GAP)


def draw_drop_picture(tiles: Sequence[TileImage]) -> bytes:
    """The picture as a JPEG (what Telegram keeps of a photo anyway)."""
    count = max(1, len(tiles))
    columns = columns_for(count)
    rows = math.ceil(count / columns)
    size = (GAP + columns * (TILE + GAP), GAP + rows * (TILE + GAP))
    canvas = Image.new("RGB", size, BACKGROUND)
    for index, tile in enumerate(tiles):
        canvas.paste(_tile(tile), tile_origin(index, count))
    out = io.BytesIO()
    canvas.save(out, "JPEG", quality=85, optimize=True)
    return out.getvalue()


def _tile(tile: TileImage) -> Image.Image:
    photo = _photo(tile.photo)
    draw: ImageDraw.ImageDraw
    if photo is None:
        image = Image.new("RGB", (TILE, TILE), PLAIN[(tile.number - 1) % len(PLAIN)])
        draw = ImageDraw.Draw(image)
        _centered_lines(draw, tile.name, font(38), (40, 40, 40), top=70, bottom=TILE - 70)
        draw.text((TILE // 2, TILE - 40), tile.price, font=font(30), fill=(40, 40, 40), anchor="mm")
    else:
        image = ImageOps.fit(photo, (TILE, TILE), Image.Resampling.LANCZOS)
        band = Image.new("RGBA", (TILE, 84), (0, 0, 0, 150))
        image.paste(band, (0, TILE - 84), band)
        draw = ImageDraw.Draw(image)
        name = _fit(tile.name, font(26), TILE - 24)
        draw.text((12, TILE - 62), name, font=font(26), fill="white", anchor="lm")
        draw.text((12, TILE - 24), tile.price, font=font(22), fill=(255, 213, 79), anchor="lm")
    _badge(draw, tile.number)
    return image


def _photo(data: bytes | None) -> Image.Image | None:
    if data is None:
        return None
    try:
        with Image.open(io.BytesIO(data)) as opened:
            opened.draft("RGB", (TILE * 2, TILE * 2))  # JPEGs decode at a fraction: much faster
            return ImageOps.exif_transpose(opened).convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError):
        return None  # a photo that will not open gets a plain tile rather than no picture


def _badge(draw: ImageDraw.ImageDraw, number: int) -> None:
    radius = 26
    draw.ellipse((10, 10, 10 + 2 * radius, 10 + 2 * radius), fill=(229, 57, 53))
    draw.text((10 + radius, 10 + radius), str(number), font=font(30), fill="white", anchor="mm")


def _fit(text: str, face: Font, width: int) -> str:
    """The text, cut with an ellipsis to fit `width` pixels on one line."""
    if face.getlength(text) <= width:
        return text
    while text and face.getlength(text + "…") > width:
        text = text[:-1]
    return text + "…"


def _centered_lines(
    draw: ImageDraw.ImageDraw,
    text: str,
    face: Font,
    fill: tuple[int, int, int],
    top: int,
    bottom: int,
) -> None:
    """Wrap `text` (by characters: Chinese has no spaces) into at most three centred lines."""
    width = TILE - 40
    lines: list[str] = []
    rest = text
    while rest and len(lines) < 3:
        cut = len(rest)
        while cut > 1 and face.getlength(rest[:cut]) > width:
            cut -= 1
        lines.append(rest[:cut].strip())
        rest = rest[cut:]
    if rest:
        lines[-1] = _fit(lines[-1] + rest, face, width)
    height = 48
    y = (top + bottom) // 2 - (len(lines) - 1) * height // 2
    for line in lines:
        draw.text((TILE // 2, y), line, font=face, fill=fill, anchor="mm")
        y += height
