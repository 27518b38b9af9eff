"""The playback buffer: a file's sound for the speakers and, in step with it, the analysis
samples of the same time (known answers with small stretches)."""

import numpy as np

from visualizer.app.playback_buffer import PlaybackBuffer, PlaybackFifo


def stereo(values) -> np.ndarray:
    """Frames whose left sample is the value and whose right is its negative."""
    left = np.asarray(values, np.float32)
    return np.stack([left, -left], axis=1)


def test_a_stereo_fifo_keeps_its_frames_whole_across_the_wrap():
    fifo = PlaybackFifo(4, channels=2)
    out = np.zeros((4, 2), np.float32)
    fifo.put(stereo([1, 2, 3]))
    assert fifo.take(out[:2]) == 2
    fifo.put(stereo([4, 5, 6]))  # wraps
    assert fifo.take(out) == 4
    np.testing.assert_array_equal(out, stereo([3, 4, 5, 6]))


def test_analysis_samples_are_released_in_proportion_to_the_sound_played():
    # Two stretches of 4 frames at twice the analysis rate: 2 samples each.
    buffer = PlaybackBuffer(sound_capacity=16, channels=2, samples_capacity=8)
    buffer.put(stereo([1, 2, 3, 4]), np.array([10, 11], np.float32))
    buffer.put(stereo([5, 6, 7, 8]), np.array([12, 13], np.float32))
    out = np.zeros((3, 2), np.float32)
    assert buffer.take(out) == (3, 1)  # 3 of 4 frames: floor(2 * 3 / 4) = 1 sample
    np.testing.assert_array_equal(out, stereo([1, 2, 3]))
    assert buffer.analysis[0] == 10
    assert buffer.take(out) == (3, 2)  # frames 4-6: the first stretch's last, then 1 more
    np.testing.assert_array_equal(buffer.analysis[:2], [11, 12])
    assert buffer.take(out) == (2, 1)  # the last two frames end the second stretch
    assert buffer.analysis[0] == 13
    assert buffer.take(out) == (0, 0)  # nothing left: silence, and no analysis


def test_a_last_stretch_of_another_proportion_is_released_whole():
    # The end of a file: 3 frames whose resampled stretch has 2 samples (rounded up).
    buffer = PlaybackBuffer(sound_capacity=8, channels=1, samples_capacity=8)
    buffer.put(np.ones((3, 1), np.float32), np.array([7, 8], np.float32))
    out = np.zeros((2, 1), np.float32)
    assert buffer.take(out) == (2, 1)
    assert buffer.take(out) == (1, 1)
    assert buffer.analysis[0] == 8


def test_a_flush_drops_what_was_not_played_and_goes_on_from_what_comes_next():
    buffer = PlaybackBuffer(sound_capacity=16, channels=1, samples_capacity=8)
    buffer.put(np.arange(4, dtype=np.float32)[:, None], np.array([0, 1], np.float32))
    out = np.zeros((2, 1), np.float32)
    assert buffer.take(out) == (2, 1)
    buffer.flush()  # a seek: frames 2-3 and sample 1 are never played
    buffer.put(np.full((2, 1), 9, np.float32), np.array([90], np.float32))
    assert buffer.space_for(12, 6) and not buffer.space_for(13, 1)  # frames 2-3 still held
    assert buffer.take(out) == (2, 1)
    np.testing.assert_array_equal(out[:, 0], [9, 9])
    assert buffer.analysis[0] == 90
    assert buffer.space_for(16, 8)
