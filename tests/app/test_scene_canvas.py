"""The canvas takes each frame in as its own 32-bit copy (`canvas_image`), the pixels Qt
scales by its fast path, and paints exactly the frame's colours from it."""

from __future__ import annotations

import numpy as np
from PyQt6.QtGui import QImage

from visualizer.app.frame_stats import FrameStats
from visualizer.app.scene_canvas import SceneCanvas, canvas_image


def random_pixels(height: int, width: int) -> np.ndarray:
    return np.random.default_rng(7).integers(0, 256, (height, width, 3), np.uint8)


def image_pixels(image: QImage) -> np.ndarray:
    """A 32-bit image's pixels as uint8 [H, W, 4], in memory order."""
    rows = np.frombuffer(image.constBits().asstring(image.sizeInBytes()), np.uint8)
    return rows.reshape(image.height(), image.bytesPerLine())[:, : 4 * image.width()].reshape(
        image.height(), image.width(), 4
    )


def test_a_frame_becomes_its_own_32_bit_copy_with_the_same_colours():
    pixels = random_pixels(12, 20)
    image = canvas_image(pixels)
    assert image.format() == QImage.Format.Format_RGB32
    assert (image.width(), image.height()) == (20, 12)
    stored = image_pixels(image).copy()
    # 0xffRRGGBB per pixel: blue, green, red, 255 in a little-endian machine's memory
    assert np.array_equal(stored[..., 2::-1], pixels)
    assert np.all(stored[..., 3] == 255)
    pixels[:] = 0  # the stage may reuse its buffer: the copy keeps the frame
    assert np.array_equal(image_pixels(image), stored)


def test_the_canvas_paints_a_frame_of_its_own_size_exactly(qtbot):
    canvas = SceneCanvas(FrameStats())
    qtbot.addWidget(canvas)
    canvas.resize(160, 160)
    pixels = random_pixels(160, 160)
    canvas.show_frame(1, pixels, None)
    assert canvas.current_pixels() is pixels
    painted = canvas.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    assert np.array_equal(image_pixels(painted)[..., 2::-1], pixels)
