"""What a playing file's decoder hands its output callback: the file's own sound for the
speakers and, in step with it, the analysis samples the worker reads.

The file plays as it is (its own rate, stereo kept), while the models take mono at their
own rate. The decoding thread puts both forms of each stretch of the file together (one
`put`); the output callback takes the sound frames it plays and, with them, the analysis
samples of the same stretch of time (`take`). Both sides only copy between preallocated
arrays and compare counters, each written by one side only, as in the `SampleRing`.
"""

from __future__ import annotations

import numpy as np

from .sample_ring import copy_in, copy_out


class PlaybackFifo:
    """Preallocated FIFO of frames (samples, or rows of `channels` samples) between the
    decoding thread and the output callback (the same wrapping copies as the SampleRing,
    without times)."""

    def __init__(self, capacity: int, channels: int | None = None):
        self.capacity = capacity
        shape = (capacity,) if channels is None else (capacity, channels)
        self._data = np.zeros(shape, dtype=np.float32)
        self.written = 0
        self.read = 0

    def space(self) -> int:
        return self.capacity - (self.written - self.read)

    def put(self, frames: np.ndarray) -> None:
        copy_in(self._data, self.written, frames)
        self.written += len(frames)

    def take(self, out: np.ndarray) -> int:
        """Copy up to len(out) frames into out; return how many."""
        count = min(len(out), self.written - self.read)
        copy_out(self._data, self.read, out, count)
        self.read += count
        return count


class PlaybackBuffer:
    """A file's sound and its analysis samples, stretch by stretch, kept in step.

    Each `put` is one stretch: F sound frames and the S analysis samples of the same time.
    Taking sound frames releases analysis samples in proportion within each stretch
    (floor(S * played / F)), so the analysis never runs ahead of what is heard and lags it
    by less than one analysis sample. `flush` (a seek) drops everything not yet taken.
    """

    def __init__(
        self,
        sound_capacity: int,
        channels: int,
        samples_capacity: int,
        stretches: int = 1024,
    ):
        self.sound = PlaybackFifo(sound_capacity, channels)
        self.samples = PlaybackFifo(samples_capacity)
        self.analysis = np.zeros(samples_capacity, dtype=np.float32)  # what `take` released
        # Per stretch: where its sound and its samples start, and how many of each.
        self._stretch_sound_start = np.zeros(stretches, dtype=np.int64)
        self._stretch_samples_start = np.zeros(stretches, dtype=np.int64)
        self._stretch_frames = np.ones(stretches, dtype=np.int64)
        self._stretch_samples = np.zeros(stretches, dtype=np.int64)
        self._stretches = stretches
        self.stretches_written = 0  # decoder
        self._stretch_read = 0  # callback: the first stretch not wholly played
        # Set by the decoder (a seek): (sound written, samples written, stretches written)
        # at that moment, where the callback goes on from at its next take.
        self.flush_to: tuple[int, int, int] | None = None

    def space_for(self, frames: int, samples: int) -> bool:
        """Whether a stretch of `frames` sound frames and `samples` samples fits now."""
        return (
            self.sound.space() >= frames
            and self.samples.space() >= samples
            and self.stretches_written - self._stretch_read < self._stretches
        )

    # Decoder side.
    def put(self, sound: np.ndarray, samples: np.ndarray) -> None:
        """One stretch: its sound frames and its analysis samples (room checked first)."""
        slot = self.stretches_written % self._stretches
        self._stretch_sound_start[slot] = self.sound.written
        self._stretch_samples_start[slot] = self.samples.written
        self._stretch_frames[slot] = max(len(sound), 1)
        self._stretch_samples[slot] = len(samples)
        self.sound.put(sound)
        self.samples.put(samples)
        self.stretches_written += 1

    def flush(self) -> None:
        """Drop what has not been taken: the callback goes on from what is put next."""
        self.flush_to = (self.sound.written, self.samples.written, self.stretches_written)

    @property
    def frames_written(self) -> int:
        return self.sound.written

    @property
    def frames_read(self) -> int:
        return self.sound.read

    # Callback side.
    def take(self, out: np.ndarray) -> tuple[int, int]:
        """Copy up to len(out) sound frames into `out`, and the analysis samples of the
        same time into `analysis[:samples]`. Returns (frames, samples)."""
        flush = self.flush_to
        if flush is not None:
            self.flush_to = None
            self.sound.read, self.samples.read, self._stretch_read = flush
        frames = self.sound.take(out)
        played = self.sound.read
        stretch = self._stretch_read
        target = self.samples.read
        while stretch < self.stretches_written:
            slot = stretch % self._stretches
            start = self._stretch_sound_start[slot]
            length = self._stretch_frames[slot]
            into = min(played - start, length)
            if into <= 0:
                break
            target = self._stretch_samples_start[slot] + (
                self._stretch_samples[slot] * into // length
            )
            if into < length:
                break
            stretch += 1
        self._stretch_read = stretch
        samples = self.samples.take(self.analysis[: max(int(target) - self.samples.read, 0)])
        return frames, samples
