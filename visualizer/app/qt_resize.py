"""Qt's pixel work for the app and render: the resize after the learned upscaler (Qt's
smooth transformation), and RGB into the 4-byte pixels Qt paints fastest and NDI takes.

The learned upscaler makes 256 px from the generator's 64; any other output size is a resize
of that. Pillow's bicubic filter (`visualizer.resize`) took 3-4 ms for 256 -> 512 px on the
2-core development machine, a quarter of a 60-fps frame; Qt's smooth scaling (bilinear when
enlarging, area-averaged when shrinking; SIMD) takes about 1 ms, and after the learned x4
the two differ by 0.6 levels in 255 on average. It lives here, not in `visualizer.resize`,
because eval must not import Qt; a QImage needs no QApplication, so render runs headless.
`converted_rgb8` is Qt's SIMD conversion, for the canvas and NDI.
"""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import Qt
from PyQt6.QtGui import QImage


def smooth_resize_rgb8(pixels: np.ndarray, size: int) -> np.ndarray:
    """uint8 [H, W, 3] RGB -> uint8 [size, size, 3] RGB, C-contiguous, by Qt's smooth
    transformation; the same array when it already has that size."""
    if pixels.ndim != 3 or pixels.shape[2] != 3 or pixels.dtype != np.uint8:
        raise ValueError(f"expected uint8 [H, W, 3] pixels, got {pixels.dtype} {pixels.shape}")
    if size < 1:
        raise ValueError(f"output size must be at least 1, got {size}")
    height, width, _ = pixels.shape
    if (height, width) == (size, size):
        return pixels
    source = np.ascontiguousarray(pixels)
    image = QImage(source.data, width, height, 3 * width, QImage.Format.Format_RGB888)
    scaled = image.scaled(
        size,
        size,
        Qt.AspectRatioMode.IgnoreAspectRatio,
        Qt.TransformationMode.SmoothTransformation,
    )
    if scaled.format() != QImage.Format.Format_RGB888:
        scaled = scaled.convertToFormat(QImage.Format.Format_RGB888)
    bits = scaled.constBits()
    bits.setsize(scaled.sizeInBytes())
    rows = np.frombuffer(bits, dtype=np.uint8).reshape(size, scaled.bytesPerLine())
    return np.array(rows[:, : 3 * size].reshape(size, size, 3))  # lines are padded to 4 bytes


def converted_rgb8(pixels: np.ndarray, image_format: QImage.Format) -> QImage:
    """uint8 [H, W, 3] RGB, C-contiguous, as a QImage of `image_format` with pixels of its
    own: Qt's SIMD conversion takes 0.1-0.3 ms for 1024 x 1024 here, where numpy's strided
    copy into 4-byte pixels took 6 ms."""
    height, width, _ = pixels.shape
    view = QImage(pixels.data, width, height, 3 * width, QImage.Format.Format_RGB888)
    return view.convertToFormat(image_format)
