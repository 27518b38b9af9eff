"""A preallocated single-producer single-consumer ring of audio samples with their times.

The audio callback (producer) only copies a block in and records when its last sample was
captured or will be heard; it allocates nothing and takes no lock. The worker (consumer)
reads the samples whose time has come. Counters only grow, and each is written by one
side only, so under the GIL a reader always sees a consistent prefix.
"""

from __future__ import annotations

import numpy as np


def copy_in(ring: np.ndarray, position: int, block: np.ndarray) -> None:
    """Write `block` (at most len(ring) samples) at running sample `position` of `ring`,
    wrapping around its end."""
    start = position % len(ring)
    first = min(len(block), len(ring) - start)
    ring[start : start + first] = block[:first]
    ring[: len(block) - first] = block[first:]


def copy_out(ring: np.ndarray, position: int, out: np.ndarray, count: int) -> None:
    """Read `count` samples from running sample `position` of `ring` into out[:count],
    wrapping around its end."""
    start = position % len(ring)
    first = min(count, len(ring) - start)
    out[:first] = ring[start : start + first]
    out[first:count] = ring[: count - first]


class SampleRing:
    """Samples (or frames of `channels` samples, when above 1) with their times."""

    def __init__(
        self, capacity: int, sample_rate: int, block_records: int = 4096, channels: int = 1
    ):
        self.capacity = int(capacity)
        self.sample_rate = int(sample_rate)
        self.channels = int(channels)
        shape = (self.capacity,) if self.channels == 1 else (self.capacity, self.channels)
        self._samples = np.zeros(shape, dtype=np.float32)
        self._block_end = np.zeros(block_records, dtype=np.int64)  # samples written after it
        self._block_time = np.zeros(block_records, dtype=np.float64)  # time of its last sample
        self._records = block_records
        self.written = 0  # producer: total samples written
        self.blocks = 0  # producer: total blocks written
        self.read_position = 0  # consumer: total samples consumed
        self._read_block = 0  # consumer: first block record not yet fully consumed
        self.overflows = 0  # consumer: times the producer lapped the reader

    # Producer side (the audio callback): copy, record, publish. Nothing else.
    def write(self, block: np.ndarray, last_sample_time: float) -> None:
        count = len(block)
        if count > self.capacity:  # only the newest `capacity` samples can be kept
            self.written += count - self.capacity
            block = block[-self.capacity :]
            count = self.capacity
        copy_in(self._samples, self.written, block)
        slot = self.blocks % self._records
        self._block_end[slot] = self.written + count
        self._block_time[slot] = last_sample_time
        self.written += count
        self.blocks += 1

    # Consumer side (the worker).
    def reset_reader(self) -> None:
        """Skip everything written so far (after a seek or a source change)."""
        self.read_position = self.written
        self._read_block = self.blocks

    def read_until(self, deadline: float, out: np.ndarray) -> tuple[int, float | None]:
        """Copy into `out` the unread samples whose time is <= `deadline`.

        Returns (count, time of the last sample copied, or None when none was). A reader
        lapped by the producer skips to the oldest samples still held and counts an overflow.
        """
        written, blocks = self.written, self.blocks
        if written - self.read_position > self.capacity:
            self.overflows += 1
            self.read_position = written - self.capacity
        if blocks - self._read_block > self._records:
            self._read_block = blocks - self._records
        stop, stop_time = self.read_position, None
        period = 1.0 / self.sample_rate
        block = self._read_block
        while block < blocks:
            slot = block % self._records
            end, end_time = int(self._block_end[slot]), float(self._block_time[slot])
            if end_time <= deadline:
                stop, stop_time = end, end_time
                block += 1
                continue
            # Part of this block is due: its samples are evenly spaced before end_time.
            due = end - int(np.ceil((end_time - deadline) / period))
            if due > stop:
                stop, stop_time = due, end_time - (end - due) * period
            break
        self._read_block = block
        stop = max(stop, self.read_position)
        count = min(stop - self.read_position, len(out))
        if count <= 0:
            return 0, None
        copy_out(self._samples, self.read_position, out, count)
        self.read_position += count
        if stop_time is not None:
            stop_time -= (stop - self.read_position) * period  # `out` may have truncated it
        return count, stop_time

    def pending(self) -> int:
        """Samples written and not yet consumed."""
        return self.written - self.read_position

    # A passive second reader (the recorder): copies, never moves the consumer's position.
    def new_buffer(self) -> np.ndarray:
        """An array the size and shape of the ring, for `copy_since`."""
        return np.empty_like(self._samples)

    def copy_since(self, position: int, out: np.ndarray) -> tuple[int, int, float | None]:
        """Copy into `out` the samples of the complete blocks written from `position` on
        (from the oldest still held when the writer has lapped `position`; at most
        len(out)). Returns (position of the first sample copied, count, time of the sample
        just before `position + count`, i.e. of the last one copied; None when none)."""
        blocks = self.blocks
        if not blocks:
            return position, 0, None
        slot = (blocks - 1) % self._records
        end, end_time = int(self._block_end[slot]), float(self._block_time[slot])
        start = max(position, end - self.capacity)
        count = min(end - start, len(out))
        if count <= 0:
            return start, 0, None
        copy_out(self._samples, start, out, count)
        return start, count, end_time - (end - start - count) / self.sample_rate
