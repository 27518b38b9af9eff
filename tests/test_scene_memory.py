"""The scene memory: a running mean at first, then an exponential moving average."""

from __future__ import annotations

import math

import numpy as np
import pytest

from visualizer.scene_memory import SceneMemory, remembered_sequence


def test_a_step_is_followed_with_the_time_constant():
    memory = SceneMemory(seconds=8.0)
    feature, _ = memory.update(np.zeros(3), np.zeros(2), 8.0)
    np.testing.assert_array_equal(feature, 0.0)
    for steps in (1, 2, 3):
        feature, scores = memory.update(np.ones(3), np.full(2, 2.0), 8.0)
        expected = 1.0 - math.exp(-steps)  # the moving average outweighs the running mean
        np.testing.assert_allclose(feature, expected, rtol=1e-6)
        np.testing.assert_allclose(scores, 2.0 * expected, rtol=1e-6)


def test_it_starts_as_the_running_mean_of_what_it_heard():
    memory = SceneMemory(seconds=100.0)
    means = [memory.update(np.array([value]), np.array([value]), 1.0)[0][0] for value in (3, 5, 7)]
    assert means == pytest.approx([3.0, 4.0, 5.0], rel=1e-6)


def test_without_memory_every_result_is_shown_as_it_comes():
    memory = SceneMemory(seconds=0.0)
    for value in (3.0, -1.0, 9.0):
        feature, scores = memory.update(np.array([value]), np.array([value, 0.0]), 0.25)
        assert feature[0] == value and scores[0] == value


def test_reset_forgets_the_music_so_far():
    memory = SceneMemory(seconds=16.0)
    memory.update(np.array([10.0]), np.array([10.0]), 0.25)
    memory.update(np.array([10.0]), np.array([10.0]), 0.25)
    memory.reset()
    feature, _ = memory.update(np.array([-2.0]), np.array([-2.0]), 0.25)
    assert feature[0] == -2.0


def test_remembered_sequence_is_the_memory_fed_one_hop_apart():
    features = np.array([[0.0], [1.0], [1.0]], np.float32)
    remembered, scores = remembered_sequence(features, 2 * features, seconds=8.0, hop_seconds=8.0)
    np.testing.assert_allclose(remembered[:, 0], [0.0, 1 - math.exp(-1), 1 - math.exp(-2)], 1e-6)
    np.testing.assert_allclose(scores, 2 * remembered, rtol=1e-6)
    assert remembered.dtype == np.float32


@pytest.mark.parametrize("seconds", [-1.0, float("nan"), float("inf")])
def test_a_time_constant_that_is_not_a_duration_is_refused(seconds):
    with pytest.raises(ValueError, match="scene memory must be a finite number of seconds >= 0"):
        SceneMemory(seconds)
