"""The sample ring (what sources write and the worker reads, in time) and the wrapping copies
every sample ring of the app shares (SampleRing, the playback buffer's FIFOs)."""

import numpy as np
import pytest

from visualizer.app.playback_buffer import PlaybackFifo
from visualizer.app.sample_ring import SampleRing, copy_in, copy_out


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


def test_ring_reads_only_samples_whose_time_has_come():
    ring = SampleRing(capacity=1000, sample_rate=100)
    ring.write(np.arange(10, dtype=np.float32), last_sample_time=1.0)  # samples at 0.91..1.0
    out = np.empty(1000, np.float32)
    count, last = ring.read_until(0.955, out)
    assert count == 5 and out[:5].tolist() == [0, 1, 2, 3, 4]
    assert last == pytest.approx(0.95)
    count, last = ring.read_until(2.0, out)
    assert out[:count].tolist() == [5, 6, 7, 8, 9] and last == pytest.approx(1.0)
    assert ring.read_until(3.0, out) == (0, None)


def test_ring_wraps_and_counts_an_overflow_when_lapped():
    ring = SampleRing(capacity=8, sample_rate=100)
    out = np.empty(8, np.float32)
    ring.write(np.arange(6, dtype=np.float32), 1.0)
    assert ring.read_until(1.0, out)[0] == 6
    ring.write(np.arange(6, 12, dtype=np.float32), 2.0)  # wraps around the end
    count, _ = ring.read_until(2.0, out)
    assert out[:count].tolist() == [6, 7, 8, 9, 10, 11]
    ring.write(np.arange(12, 32, dtype=np.float32), 3.0)  # more than the capacity
    count, _ = ring.read_until(3.0, out)
    assert ring.overflows == 1
    assert out[:count].tolist() == list(range(24, 32))


def test_ring_reset_skips_what_was_written():
    ring = SampleRing(capacity=100, sample_rate=100)
    ring.write(np.ones(50, np.float32), 1.0)
    ring.reset_reader()
    assert ring.read_until(5.0, np.empty(100, np.float32)) == (0, None)
