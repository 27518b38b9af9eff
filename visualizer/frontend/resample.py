"""Sample-rate conversion: one polyphase filter (scipy.signal.resample_poly's) for files and
live input alike.

The input is converted in chunks whose length is a multiple of the polyphase `down` factor,
each with `context` input samples (the filter's reach) on both sides, keeping only the middle
of each output: the result equals resampling the whole stream at once. The file reader
(decode.py) takes a chunk and its context from the file; `StreamResampler` collects live
blocks of any size until a chunk and its right-hand context have arrived.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.signal import resample_poly


@dataclass(frozen=True)
class Polyphase:
    up: int
    down: int
    context: int  # input samples either side of a chunk that its output depends on

    @classmethod
    def between(cls, source_rate: int, target_rate: int) -> Polyphase:
        if source_rate <= 0 or target_rate <= 0:
            raise ValueError(f"sample rates must be positive, got {source_rate} and {target_rate}")
        divisor = math.gcd(source_rate, target_rate)
        up, down = target_rate // divisor, source_rate // divisor
        half_filter_input = math.ceil(10 * max(up, down) / up) + 1  # resample_poly's filter
        return cls(up, down, down * math.ceil(half_filter_input / down))

    def output_count(self, input_count: int) -> int:
        return math.ceil(input_count * self.up / self.down)

    def convert(self, padded: np.ndarray, input_count: int) -> np.ndarray:
        """float32 output of the `input_count` input samples that `padded` holds after its
        first `context` (it holds `context` more after them)."""
        if self.up == self.down == 1:
            resampled = padded
        else:
            resampled = resample_poly(padded, self.up, self.down).astype(np.float32)
        skip = self.context * self.up // self.down
        return resampled[skip : skip + self.output_count(input_count)]


class StreamResampler:
    """A live stream from `source_rate` to `target_rate`, in blocks of any size: its output
    equals resampling the whole stream at once, `chunk_samples` + the filter's reach later.
    Non-finite input samples are read as silence (and counted), so one bad sample cannot
    poison the output."""

    def __init__(self, source_rate: int, target_rate: int, chunk_samples: int = 512):
        self.polyphase = Polyphase.between(int(source_rate), int(target_rate))
        down = self.polyphase.down
        self._chunk = down * max(1, math.ceil(chunk_samples / down))
        self.reset()

    def reset(self) -> None:
        """Forget the stream (a new source): the next block starts at time zero."""
        self._buffer = np.zeros(self.polyphase.context, dtype=np.float32)  # silence before
        self.nonfinite_samples = 0

    def process(self, block: np.ndarray) -> np.ndarray:
        """float32 output samples for the new input `block` (possibly none yet)."""
        block = np.asarray(block, dtype=np.float32)
        finite = np.isfinite(block)
        if not finite.all():
            self.nonfinite_samples += int(block.size - np.count_nonzero(finite))
            block = np.where(finite, block, np.float32(0.0))
        buffer = np.concatenate([self._buffer, block])
        chunk, context = self._chunk, self.polyphase.context
        outputs, start = [], 0
        while len(buffer) - start >= chunk + 2 * context:
            outputs.append(
                self.polyphase.convert(buffer[start : start + chunk + 2 * context], chunk)
            )
            start += chunk
        self._buffer = buffer[start:]
        return np.concatenate(outputs) if outputs else np.zeros(0, dtype=np.float32)
