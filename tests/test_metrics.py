"""The shared figures' known answers: Frechet distance (plain and with one side reweighted to
a category mix), mean pairwise distance, the checkerboard ratio."""

import numpy as np
import pytest

from visualizer.metrics import (
    checkerboard_ratio,
    frechet_distance,
    mean_pairwise_distance,
    mix_weights,
    shared_streak_share,
    streak_ratios,
)


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


def test_weighted_frechet_distance_counts_rows_as_if_repeated():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(300, 3)), rng.normal(size=(40, 3)) + 0.5
    counts = rng.integers(0, 4, size=40)
    repeated = np.repeat(b, counts, axis=0)
    assert frechet_distance(a, b, counts) == pytest.approx(frechet_distance(a, repeated), rel=1e-9)
    assert frechet_distance(a, b, np.ones(40)) == pytest.approx(frechet_distance(a, b), rel=1e-12)


def test_a_category_mix_that_differs_has_a_distance_and_matching_it_removes_it():
    # two categories one unit apart on the first axis; the photos hold them 1:1, the
    # generated pictures 3:1: the plain distance is the squared shift of the mean (0.25^2)
    # plus the covariance term; weighting the photos to 3:1 brings it to 0.
    base = np.array([[0.0, 0.0], [0.0, 1.0], [0.0, -1.0], [0.0, 0.5], [0.0, -0.5]])
    photos = np.concatenate([base, base, base + [1.0, 0.0], base + [1.0, 0.0]])
    labels = np.repeat([0, 1], 2 * len(base))
    generated = np.concatenate([base, base, base, base + [1.0, 0.0]])
    assert frechet_distance(generated, photos) > 0.0625
    weights = mix_weights(labels, np.array([0.75, 0.25]))
    np.testing.assert_allclose(weights, [1.5] * 10 + [0.5] * 10)
    assert frechet_distance(generated, photos, weights) == pytest.approx(0.0, abs=1e-9)


def test_mix_weights_refuse_what_they_cannot_mean():
    with pytest.raises(ValueError, match="no items of category 2"):
        mix_weights(np.array([0, 0, 1]), np.array([0.5, 0.25, 0.25]))
    with pytest.raises(ValueError, match="non-negative"):
        frechet_distance(np.zeros((3, 2)), np.zeros((3, 2)), np.array([1.0, -1.0, 1.0]))
    with pytest.raises(ValueError, match="3 non-negative"):
        frechet_distance(np.zeros((3, 2)), np.zeros((3, 2)), np.ones(2))


def test_streak_ratios_known_answers():
    rng = np.random.default_rng(0)
    # one random row repeated down the picture: every column is a streak
    row = rng.standard_normal((8, 3, 1, 32))
    vertical, horizontal = streak_ratios(np.broadcast_to(row, (8, 3, 32, 32)))
    assert vertical == pytest.approx(1.0, abs=1e-12)
    assert horizontal == 0.0  # constant down each column: no detail across the columns
    # its transpose streaks the other way
    assert streak_ratios(np.broadcast_to(row, (8, 3, 32, 32)).transpose(0, 1, 3, 2)) == (
        0.0,
        pytest.approx(1.0, abs=1e-12),
    )
    # white noise: the column mean of 64 independent values keeps 1/64 of their power
    white = rng.standard_normal((256, 3, 64, 64))
    assert streak_ratios(white) == (
        pytest.approx(1 / 64, rel=0.05),
        pytest.approx(1 / 64, rel=0.05),
    )
    assert streak_ratios(np.zeros((2, 3, 8, 8))) == (0.0, 0.0)
    with pytest.raises(ValueError, match="N, 3, H, W"):
        streak_ratios(np.zeros((4, 16, 16, 3)))
    with pytest.raises(ValueError, match="at least 3"):
        streak_ratios(np.zeros((4, 3, 2, 16)))


def test_shared_streak_share_known_answers():
    rng = np.random.default_rng(1)
    # one picture repeated: all of its column detail is common to the set
    one = rng.standard_normal((1, 3, 16, 32))
    assert shared_streak_share(np.repeat(one, 6, axis=0)) == pytest.approx(1.0, abs=1e-12)
    # independent white-noise pictures share nothing (0 in expectation; spread ~0.003)
    assert abs(shared_streak_share(rng.standard_normal((64, 3, 64, 64)))) < 0.02
    # each picture a row pattern common to all plus its own row pattern of the same power,
    # repeated down the rows: half of the streak power is shared
    common = rng.standard_normal((1, 3, 1, 256))
    own = rng.standard_normal((256, 3, 1, 256))
    half = np.broadcast_to(common + own, (256, 3, 8, 256))
    assert shared_streak_share(half) == pytest.approx(0.5, abs=0.05)
    assert shared_streak_share(np.zeros((4, 3, 8, 8))) == 0.0
    with pytest.raises(ValueError, match="at least 2 pictures"):
        shared_streak_share(np.zeros((1, 3, 8, 8)))
    with pytest.raises(ValueError, match="N, 3, H, W"):
        shared_streak_share(np.zeros((4, 8, 8, 3)))
