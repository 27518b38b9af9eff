"""visualizer/app/qt_resize.py: Qt's smooth resize of RGB bytes, with known answers."""

from __future__ import annotations

import numpy as np
import pytest
from PyQt6.QtGui import QImage

from visualizer.app.qt_resize import converted_rgb8, smooth_resize_rgb8
from visualizer.resize import Filter, resize_rgb8

from .qimage_pixels import stored_pixels


@pytest.mark.parametrize("size", [7, 385, 512])  # 385 * 3 bytes: Qt pads each line to 1,156
def test_a_flat_picture_stays_flat_at_any_size(size):
    flat = np.empty((64, 64, 3), np.uint8)
    flat[...] = (200, 31, 77)
    pixels = smooth_resize_rgb8(flat, size)
    assert pixels.shape == (size, size, 3) and pixels.dtype == np.uint8
    assert pixels.flags.c_contiguous and pixels.flags.writeable
    assert np.all(pixels == np.array([200, 31, 77], np.uint8))


def test_doubling_ramps_keeps_each_pixel_as_the_mean_of_its_two_by_two_block():
    rising = np.arange(32, dtype=np.uint8) * 8
    ramps = np.empty((32, 32, 3), np.uint8)
    ramps[..., 0] = rising  # red rises, green falls, blue stays: channels must stay apart
    ramps[..., 1] = 248 - rising
    ramps[..., 2] = 100
    doubled = smooth_resize_rgb8(ramps, 64).astype(float)
    blocks = doubled.reshape(32, 2, 32, 2, 3).mean(axis=(1, 3))
    assert np.abs(blocks[:, 1:-1] - ramps[:, 1:-1]).max() <= 1.0  # interior: linear is exact
    assert np.all(np.diff(doubled[10, :, 0]) >= 0)  # no ringing: red stays monotone
    assert np.all(np.diff(doubled[10, :, 1]) <= 0)
    assert np.all(doubled[..., 2] == 100)


def test_shrinking_a_checkerboard_averages_it():
    board = np.indices((64, 64)).sum(axis=0) % 2 * 255
    pixels = smooth_resize_rgb8(np.repeat(board[..., None], 3, axis=2).astype(np.uint8), 32)
    assert np.all(pixels == pixels[0, 0])  # one grey: no trace of the pattern
    assert abs(int(pixels[0, 0, 0]) - 127.5) <= 2  # Qt's fixed point rounds down: 126


def test_it_is_close_to_bicubic_on_a_smooth_picture_and_returns_the_same_size_as_is():
    rng = np.random.default_rng(0)
    coarse = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    smooth = resize_rgb8(coarse, 256, Filter.BICUBIC)  # like the learned upscaler's output
    difference = smooth_resize_rgb8(smooth, 512).astype(int) - resize_rgb8(
        smooth, 512, Filter.BICUBIC
    )
    assert np.abs(difference).mean() < 1.0
    assert smooth_resize_rgb8(smooth, 256) is smooth


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="uint8 \\[H, W, 3\\]"):
        smooth_resize_rgb8(np.zeros((8, 8), np.uint8), 16)
    with pytest.raises(ValueError, match="uint8 \\[H, W, 3\\]"):
        smooth_resize_rgb8(np.zeros((8, 8, 3), np.float32), 16)
    with pytest.raises(ValueError, match="at least 1"):
        smooth_resize_rgb8(np.zeros((8, 8, 3), np.uint8), 0)


def test_rgb_becomes_opaque_4_byte_pixels_in_the_order_asked():
    pixels = np.random.default_rng(3).integers(0, 256, (5, 7, 3), np.uint8)
    for image_format, order in (
        (QImage.Format.Format_RGBX8888, [0, 1, 2]),  # NDI's RGBA: R, G, B, 255
        (QImage.Format.Format_RGB32, [2, 1, 0]),  # 0xffRRGGBB: B, G, R, 255 in memory
    ):
        image = converted_rgb8(pixels, image_format)
        assert image.format() == image_format and image.bytesPerLine() == 7 * 4
        stored = stored_pixels(image)
        assert np.array_equal(stored[..., order], pixels)
        assert np.all(stored[..., 3] == 255)
