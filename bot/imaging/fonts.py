"""The font pictures are drawn with: one with Chinese glyphs where the machine has it.

Debian's `fonts-noto-cjk` (Noto Sans CJK) is what the README asks for; `PICTURE_FONT` names any
other file. Without either, Latin text still draws (DejaVu, or Pillow's own font) and Chinese
comes out as boxes, which `font_has_cjk()` lets the start-up log warn about.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from PIL import ImageFont

# (path, index in a collection): Noto's collection holds JP, KR, SC, TC…; 2 is Simplified Chinese.
CANDIDATES: tuple[tuple[str, int], ...] = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/noto-cjk/NotoSansCJK-Bold.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", 0),
    ("/System/Library/Fonts/PingFang.ttc", 0),
)
LATIN_ONLY = ("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", 0)

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@functools.cache
def font_file() -> tuple[str, int] | None:
    chosen = os.environ.get("PICTURE_FONT")
    if chosen and Path(chosen).is_file():
        return chosen, 0
    for path, index in (*CANDIDATES, LATIN_ONLY):
        if Path(path).is_file():
            return path, index
    return None


def font_has_cjk() -> bool:
    source = font_file()
    return source is not None and source != LATIN_ONLY


@functools.cache
def font(size: int) -> Font:
    source = font_file()
    if source is None:
        return ImageFont.load_default(size)
    path, index = source
    return ImageFont.truetype(path, size, index=index)
