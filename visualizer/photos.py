"""Reading photos: the one way every part of musicscape turns a photo file into pixels.

Training (embedding, GAN, judge) and `musicscape eval` all read photos here, so the GAN
learns from the same framing of a photo as the judge that scores it, and all of them split
a category's photos into training and held-out photos the same way (`split_photos`): no
model trains on a photo that the judge or eval holds out.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from visualizer.folders import split_by_item
from visualizer.resize import Filter, resize_rgb8

HELD_OUT_SHARE = 0.2  # of each category's photos
SPLIT_SEED = 0


class PhotoReadError(ValueError):
    """A photo could not be decoded; the message names the file and the reason."""


def read_photo(path: Path, size: int) -> np.ndarray:
    """A photo as uint8 RGB [size, size, 3]: centre-cropped square, Lanczos resize
    (antialiased when shrinking).

    Raises PhotoReadError naming the file for one Pillow cannot decode, and for one whose
    header claims more than twice Pillow's MAX_IMAGE_PIXELS (a decompression bomb)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as opened:
            image = opened.convert("RGB")
    except Image.DecompressionBombError as error:  # a header claiming gigapixels
        raise PhotoReadError(f"{path}: refused, too large to decode safely ({error})") from error
    except (OSError, UnidentifiedImageError, ValueError) as error:
        raise PhotoReadError(f"{path}: unreadable image ({error})") from error
    width, height = image.size
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    square = np.asarray(image.crop((left, top, left + side, top + side)), dtype=np.uint8)
    return resize_rgb8(square, size, Filter.LANCZOS)


def split_photos(photos: list[Path]) -> tuple[list[Path], list[Path]]:
    """(training, held-out) photos of one category: the one photo split of musicscape."""
    return split_by_item(photos, HELD_OUT_SHARE, SPLIT_SEED)
