"""What Qt drew, as numpy arrays: a QImage's pixels row by row, without the padding Qt may
put at the end of each row (copies, so the image may go)."""

from __future__ import annotations

import numpy as np
from PyQt6.QtGui import QImage


def _rows(image: QImage, channels: int) -> np.ndarray:
    raw = np.frombuffer(image.constBits().asstring(image.sizeInBytes()), np.uint8)
    rows = raw.reshape(image.height(), image.bytesPerLine())[:, : channels * image.width()]
    return rows.reshape(image.height(), image.width(), channels).copy()


def stored_pixels(image: QImage) -> np.ndarray:
    """A 32-bit image's pixels as uint8 [H, W, 4], the bytes in memory order."""
    if image.depth() != 32:
        raise ValueError(f"expected a 32-bit image, got {image.format()}")
    return _rows(image, 4)


def rgb_pixels(image: QImage) -> np.ndarray:
    """uint8 [H, W, 3] RGB, from an image of any format."""
    return _rows(image.convertToFormat(QImage.Format.Format_RGB888), 3)


def rgba_pixels(image: QImage) -> np.ndarray:
    """uint8 [H, W, 4] RGBA, from an image of any format."""
    return _rows(image.convertToFormat(QImage.Format.Format_RGBA8888), 4)
