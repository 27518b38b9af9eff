"""visualizer/resize.py: the one home of image resizing, checked against known answers."""

from __future__ import annotations

import numpy as np
import pytest

from visualizer.resize import Filter, centre_crop, crop_size, resize_planes, resize_rgb8


@pytest.mark.parametrize("method", list(Filter))
@pytest.mark.parametrize("size", [1, 3, 8, 13, 64])
def test_a_constant_picture_stays_constant_at_any_size(method, size):
    pixels = np.full((8, 8, 3), 77, np.uint8)
    resized = resize_rgb8(pixels, size, method)
    assert resized.shape == (size, size, 3) and resized.dtype == np.uint8
    assert np.all(resized == 77)


@pytest.mark.parametrize("size", [1, 3, 8, 13])
def test_constant_planes_stay_constant_at_any_size(size):
    images = np.full((2, 3, 5, 5), 0.25, np.float32)
    resized = resize_planes(images, size)
    assert resized.shape == (2, 3, size, size) and resized.dtype == np.float32
    assert np.allclose(resized, 0.25)


# A 2x2 picture, black left column and white right, enlarged to 4x4: output pixel x samples
# the input at (x + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25 pixel centres, kernel weights
# normalised over the two pixels there are. Bicubic (a = -0.5) at 0.25: weights 0.8672 and
# 0.2266 -> 255 * 0.2266 / 1.0938 = 52.8 -> 53; the outer pixels overshoot and are clipped.
# Lanczos-3 at 0.25: weights 0.8901 and 0.2702 -> 255 * 0.2702 / 1.1603 = 59.4 -> 59.
@pytest.mark.parametrize(
    ("method", "row"), [(Filter.BICUBIC, [0, 53, 202, 255]), (Filter.LANCZOS, [0, 59, 196, 255])]
)
def test_two_by_two_to_four_by_four_known_answer(method, row):
    pixels = np.zeros((2, 2, 3), np.uint8)
    pixels[:, 1] = 255
    resized = resize_rgb8(pixels, 4, method)
    assert resized[..., 0].tolist() == [row] * 4
    assert np.array_equal(resized[..., 0], resized[..., 2])


def test_planes_two_by_two_to_four_by_four_interpolate_through_the_corners():
    # Corner-aligned linear interpolation: output x samples the input at x * (2 - 1) / (4 - 1).
    images = np.array([[0.0, 3.0], [6.0, 9.0]], np.float32)[None, None]
    expected = [[0, 1, 2, 3], [2, 3, 4, 5], [4, 5, 6, 7], [6, 7, 8, 9]]
    assert np.allclose(resize_planes(images, 4)[0, 0], expected)


def test_an_image_already_at_size_is_returned_as_is():
    pixels = np.arange(48, dtype=np.uint8).reshape(4, 4, 3)
    assert resize_rgb8(pixels, 4, Filter.LANCZOS) is pixels
    planes = np.zeros((1, 3, 4, 4), np.float32)
    assert resize_planes(planes, 4) is planes


def test_centre_crop_cuts_the_overhang_as_the_canvas_fill_does():
    picture = np.arange(8 * 8).reshape(8, 8)
    assert np.array_equal(centre_crop(picture, 2.0), picture[2:6])  # wide: top and bottom cut
    assert np.array_equal(centre_crop(picture, 0.5), picture[:, 2:6])  # tall: the sides
    assert np.array_equal(centre_crop(picture, 1.0), picture)
    assert centre_crop(np.zeros((720, 720, 3)), 16 / 9).shape == (405, 720, 3)


def test_a_crop_s_size_keeps_the_short_side_and_the_shape():
    assert crop_size(1.0, 720) == (720, 720)
    assert crop_size(16 / 9, 720) == (1280, 720)
    assert crop_size(4 / 3, 720) == (960, 720)
    assert crop_size(9 / 16, 720) == (720, 1280)  # a portrait screen
    assert crop_size(1920 / 1200, 720) == (1152, 720)
    assert crop_size(1366 / 768, 720) == (1280, 720)  # 1280.6 -> the nearest even
    assert crop_size(10.0, 720) == (2880, 720)  # a ribbon screen: at most 4:1
    assert crop_size(0.1, 720) == (720, 2880)
