"""The canvas takes each frame in as its own 32-bit copy (`canvas_image`), the pixels Qt
scales by its fast path, and paints exactly the frame's colours from it. A pinned picture
that the layout enlarges is mapped in perspective onto a smaller image, then enlarged
(`draw_pinned`): the same picture as the direct map inside, an edge without steps."""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QRectF
from PyQt6.QtGui import QColor, QImage, QPainter

from visualizer.app.canvas_orientation import CanvasOrientation
from visualizer.app.corner_pin import CornerPin
from visualizer.app.frame_stats import FrameStats
from visualizer.app.scene_canvas import (
    SceneCanvas,
    canvas_image,
    draw_pinned,
    paint_picture,
    picture_rect,
    pin_reduction,
    pin_transform,
)

from .qimage_pixels import rgb_pixels, stored_pixels


def random_pixels(height: int, width: int) -> np.ndarray:
    return np.random.default_rng(7).integers(0, 256, (height, width, 3), np.uint8)


def test_a_frame_becomes_its_own_32_bit_copy_with_the_same_colours():
    pixels = random_pixels(12, 20)
    image = canvas_image(pixels)
    assert image.format() == QImage.Format.Format_RGB32
    assert (image.width(), image.height()) == (20, 12)
    stored = stored_pixels(image)
    # 0xffRRGGBB per pixel: blue, green, red, 255 in a little-endian machine's memory
    assert np.array_equal(stored[..., 2::-1], pixels)
    assert np.all(stored[..., 3] == 255)
    pixels[:] = 0  # the stage may reuse its buffer: the copy keeps the frame
    assert np.array_equal(stored_pixels(image), stored)


def test_the_canvas_paints_a_frame_of_its_own_size_exactly(qtbot):
    canvas = SceneCanvas(FrameStats())
    qtbot.addWidget(canvas)
    canvas.resize(160, 160)
    pixels = random_pixels(160, 160)
    canvas.show_frame(1, pixels, None)
    assert canvas.current_pixels() is pixels
    assert np.array_equal(rgb_pixels(canvas.grab().toImage()), pixels)


KEYSTONE = CornerPin(((0.06, 0.0), (0.94, 0.0), (1.0, 1.0), (0.0, 1.0)))


def pinned_screen(pixels: np.ndarray, reduction: float) -> tuple[np.ndarray, float]:
    """`pixels` laid out on a 640 x 360 screen and pinned by KEYSTONE with `draw_pinned`
    at `reduction`: (the screen's RGB as int [360, 640, 3], the layout's enlargement)."""
    width, height = 640, 360
    picture = canvas_image(np.ascontiguousarray(pixels, dtype=np.uint8))
    target = picture_rect(picture, QRectF(0, 0, width, height), False)
    screen = QImage(width, height, QImage.Format.Format_RGB32)
    painter = QPainter(screen)
    painter.fillRect(0, 0, width, height, QColor(0, 0, 0))
    keystone = pin_transform(KEYSTONE, width, height)
    draw_pinned(painter, picture, target, keystone, width, height, reduction)
    painter.end()
    return rgb_pixels(screen).astype(int), target.width() / picture.width()


def test_a_pinned_picture_is_mapped_small_only_when_that_saves_enough():
    assert pin_reduction(8.4375) == 4.21875  # 128 px on 1080 rows: mapped at 256 px a side
    assert pin_reduction(3.0) == 1.5
    assert pin_reduction(2.9) == 1.0  # mapped onto the screen itself
    assert pin_reduction(1.0546875) == 1.0  # 1024 px on 1080 rows


def test_mapped_small_then_enlarged_matches_the_direct_map_inside_the_pin():
    y, x = np.mgrid[0:64, 0:64] / 64
    smooth = np.stack(
        [128 + 100 * np.sin(6 * x + 2 * y), 128 + 100 * np.cos(5 * y - 3 * x), 255 * x * y], -1
    )
    direct, scale = pinned_screen(smooth, 1.0)
    assert scale == 5.625 and pin_reduction(scale) == 2.8125
    reduced, _ = pinned_screen(smooth, pin_reduction(scale))
    inside = (slice(40, 320), slice(200, 440))
    difference = np.abs(direct - reduced)[inside]
    assert difference.mean() < 1.0 and difference.max() <= 3


def edge_crossings(screen: np.ndarray) -> np.ndarray:
    """Where each row from 20 to 339 crosses half white on the pinned picture's left edge
    (x, to a hundredth of a pixel by linear interpolation)."""
    crossings = []
    for row in screen[20:340, 140:260, 0] / 255.0:
        inside = int(np.argmax(row >= 0.5))
        step = row[inside] - row[inside - 1]
        crossings.append(140 + inside - 1 + (0.5 - row[inside - 1]) / step)
    return np.asarray(crossings)


def test_the_enlarged_pin_has_a_smooth_edge_not_steps():
    white = np.full((64, 64, 3), 255)
    direct, _ = pinned_screen(white, 1.0)
    reduced, _ = pinned_screen(white, 2.8125)
    # the left edge runs 0.06 x 640 = 38.4 px right over 360 rows: 19 px over rows 20-339
    for screen in (direct, reduced):
        crossings = edge_crossings(screen)
        assert abs(crossings[0] - crossings[-1] - 19.0) < 1.0
    # mapped directly the edge steps a whole pixel at a time (no antialiasing there);
    # mapped small and enlarged it would step 2.8 px, antialiased it glides
    assert np.abs(np.diff(edge_crossings(direct))).max() == 1.0
    assert np.abs(np.diff(edge_crossings(reduced))).max() < 0.2


def test_on_a_hidpi_screen_the_device_pixels_decide():
    # 180 px on 640 x 360 logical pixels is enlarged 2x: mapped directly on a plain screen;
    # at 2 device pixels a pixel it is enlarged 4x, mapped small (reduction 2), antialiased
    white = QImage(180, 180, QImage.Format.Format_RGB32)
    white.fill(QColor(255, 255, 255))
    crossings = {}
    for ratio in (1, 2):
        screen = QImage(640 * ratio, 360 * ratio, QImage.Format.Format_RGB32)
        screen.setDevicePixelRatio(ratio)
        painter = QPainter(screen)
        paint_picture(painter, white, 640, 360, CanvasOrientation(), False, KEYSTONE)
        painter.end()
        rows = rgb_pixels(screen).astype(int)[::ratio, ::ratio]
        crossings[ratio] = edge_crossings(rows)
    assert np.abs(np.diff(crossings[1])).max() == 1.0
    assert np.abs(np.diff(crossings[2])).max() < 0.2
