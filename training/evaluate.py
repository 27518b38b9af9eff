"""Measuring exported models (ONNX Runtime only, no torch) on folders of music."""

from __future__ import annotations

from pathlib import Path

import numpy as np


class PhotoReadError(ValueError):
    """A photo could not be decoded; the message names the file and the reason."""


def read_photo(path: Path, size: int) -> np.ndarray:
    """A photo as uint8 RGB [size, size, 3]: centre-cropped square, antialiased resize.

    The judge's training and held-out photos and `musicscape eval`'s real photos all go
    through this, so both see the same pixels.
    """
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
