"""Reading photos: the one way every part of musicscape turns a photo file into pixels.

Training (embedding, GAN, judge) and `musicscape eval` all read photos here, so the GAN
learns from the same framing of a photo as the judge that scores it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


class PhotoReadError(ValueError):
    """A photo could not be decoded; the message names the file and the reason."""


def read_photo(path: Path, size: int) -> np.ndarray:
    """A photo as uint8 RGB [size, size, 3]: centre-cropped square, antialiased resize."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as opened:
            image = opened.convert("RGB")
    except (OSError, UnidentifiedImageError, ValueError) as error:
        raise PhotoReadError(f"{path}: unreadable image ({error})") from error
    width, height = image.size
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    image = image.crop((left, top, left + side, top + side))
    if side != size:
        image = image.resize((size, size), Image.Resampling.LANCZOS)
    return np.asarray(image, dtype=np.uint8)
