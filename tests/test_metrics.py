"""The shared figures' known answers: Frechet distance, mean pairwise distance, the
checkerboard ratio."""

import numpy as np
import pytest

from visualizer.metrics import checkerboard_ratio, frechet_distance, mean_pairwise_distance


def test_frechet_distance_of_a_shifted_copy_is_the_squared_shift():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(200, 3))
    assert frechet_distance(a, a + np.array([1.0, 2.0, 2.0])) == pytest.approx(9.0, abs=1e-6)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)


def test_mean_pairwise_distance_of_a_square():
    corners = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    rng = np.random.default_rng(0)
    assert mean_pairwise_distance(corners, 10, rng) == pytest.approx((4 + 2 * np.sqrt(2)) / 6)


def test_checkerboard_ratio_known_answers():
    rng = np.random.default_rng(0)
    board = ((np.arange(16)[:, None] + np.arange(16)[None]) % 2) * 2.0 - 1.0
    images = np.broadcast_to(board, (8, 3, 16, 16)) + 0.01 * rng.standard_normal((8, 3, 16, 16))
    assert checkerboard_ratio(images) > 1e3
    white = rng.standard_normal((2048, 3, 16, 16))
    assert checkerboard_ratio(white) == pytest.approx(1.0, abs=0.15)
    # smooth noise: a blurred field has less power at the top frequencies, not a peak
    from scipy.ndimage import gaussian_filter

    smooth = gaussian_filter(rng.standard_normal((256, 3, 32, 32)), (0, 0, 1, 1), mode="wrap")
    assert checkerboard_ratio(smooth) <= 1.2
    with pytest.raises(ValueError, match="N, 3, H, W"):
        checkerboard_ratio(np.zeros((4, 16, 16, 3)))
    with pytest.raises(ValueError, match="even"):
        checkerboard_ratio(np.zeros((4, 3, 15, 15)))


def test_frechet_distance_needs_two_items_a_side():
    with pytest.raises(ValueError, match="at least two items"):
        frechet_distance(np.zeros((1, 3)), np.zeros((5, 3)))
