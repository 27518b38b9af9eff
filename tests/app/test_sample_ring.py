"""The wrapping copies every sample ring of the app shares (SampleRing, PlaybackFifo)."""

import numpy as np

from visualizer.app.audio_sources import PlaybackFifo
from visualizer.app.sample_ring import copy_in, copy_out


def test_copies_wrap_around_the_end_of_the_ring():
    ring = np.zeros(5, np.float32)
    copy_in(ring, 3, np.array([1, 2, 3, 4], np.float32))  # positions 3, 4, 5, 6
    np.testing.assert_array_equal(ring, [3, 4, 0, 1, 2])
    out = np.zeros(6, np.float32)
    copy_out(ring, 8, out, 4)  # positions 8, 9, 10, 11 = slots 3, 4, 0, 1
    np.testing.assert_array_equal(out, [1, 2, 3, 4, 0, 0])


def test_the_playback_fifo_returns_what_was_put_across_the_wrap():
    fifo = PlaybackFifo(4)
    out = np.zeros(4, np.float32)
    fifo.put(np.array([1, 2, 3], np.float32))
    assert fifo.take(out[:2]) == 2 and list(out[:2]) == [1, 2]
    fifo.put(np.array([4, 5, 6], np.float32))  # wraps
    assert fifo.space() == 0
    assert fifo.take(out) == 4
    np.testing.assert_array_equal(out, [3, 4, 5, 6])
