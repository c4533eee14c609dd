"""Telegram's rules for a photo, checked before the bot tries to use a file as one.

A photo must be at most 10 MB, its width and height must add up to at most 10,000 pixels, and
the ratio of its sides must be at most 20 (Bot API, sendPhoto).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

MAX_BYTES = 10 * 1024 * 1024
MAX_SIDES = 10_000
MAX_RATIO = 20


@dataclass(frozen=True)
class PhotoCheck:
    """None when Telegram would take the file as a photo; else why not (see ImageRefused)."""

    refusal: str | None
    width: int = 0
    height: int = 0


def check_photo(data: bytes) -> PhotoCheck:
    if len(data) > MAX_BYTES:
        return PhotoCheck("too_big")
    try:
        with warnings.catch_warnings():
            # A decompression bomb is refused below by its sides, not with a warning.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return PhotoCheck("not_image")
    if width < 1 or height < 1:
        return PhotoCheck("not_image")
    if width + height > MAX_SIDES:
        return PhotoCheck("too_large", width, height)
    if max(width, height) / min(width, height) > MAX_RATIO:
        return PhotoCheck("too_narrow", width, height)
    return PhotoCheck(None, width, height)
