"""Band-limited sample-rate conversion of a stream that arrives in blocks of any size.

An input device that cannot run at the model's rate (a WASAPI device at 48 kHz, say) is
opened at its own rate; the worker passes what it reads through this converter before the
rolling STFT. Each output sample is a windowed-sinc (Blackman) interpolation of `taps`
input samples around its position, with the cut-off below the lower of the two Nyquist
frequencies, so downsampling does not alias. Blocks of any size give the same samples as
one long block; the delay is `taps / 2` input samples. Non-finite input samples are read
as silence (and counted), so one bad sample cannot poison the filter's history.
"""

from __future__ import annotations

import numpy as np


class StreamResampler:
    def __init__(self, in_rate: int, out_rate: int, taps: int = 32, cutoff: float = 0.92):
        if in_rate <= 0 or out_rate <= 0:
            raise ValueError(f"sample rates must be positive, got {in_rate} and {out_rate}")
        if taps < 4 or taps % 2:
            raise ValueError(f"taps must be an even number >= 4, got {taps}")
        self.in_rate = int(in_rate)
        self.out_rate = int(out_rate)
        self.step = self.in_rate / self.out_rate  # input samples per output sample
        # cut-off in cycles per input sample x 2 (1 = the input's Nyquist frequency)
        self.cutoff = cutoff * min(1.0, self.out_rate / self.in_rate)
        self.half = taps // 2
        self._offsets = np.arange(-self.half + 1, self.half + 1)  # taps around floor(position)
        self.reset()

    def reset(self) -> None:
        """Forget the stream (a new source): the next block starts at time zero."""
        # The history starts `half` zeros before the first sample, so the first outputs
        # can be computed as soon as their right-hand taps have arrived.
        self._history = np.zeros(self.half, dtype=np.float64)
        self._origin = -self.half  # input index of _history[0]
        self._next = 0.0  # input position of the next output sample
        self.nonfinite_samples = 0

    def process(self, block: np.ndarray) -> np.ndarray:
        """float32 output samples for the new input `block` (possibly none yet)."""
        block = np.asarray(block, dtype=np.float64)
        finite = np.isfinite(block)
        if not finite.all():
            self.nonfinite_samples += int(block.size - np.count_nonzero(finite))
            block = np.where(finite, block, 0.0)
        buffer = np.concatenate([self._history, block])
        # An output needs its right-hand taps: floor(position) + half must have arrived.
        last_base = self._origin + len(buffer) - 1 - self.half
        count = max(0, int(np.ceil((last_base + 1 - self._next) / self.step)))
        positions = self._next + self.step * np.arange(count)
        base = np.floor(positions).astype(np.int64)
        if count and base[-1] > last_base:  # rounding at the boundary
            count -= 1
            positions, base = positions[:count], base[:count]
        indices = base[:, None] + self._offsets[None, :]
        distance = positions[:, None] - indices  # in input samples, within (-half, half]
        weights = self.cutoff * np.sinc(self.cutoff * distance)
        weights *= (
            0.42
            + 0.5 * np.cos(np.pi * distance / self.half)
            + 0.08 * np.cos(2.0 * np.pi * distance / self.half)
        )
        weights /= weights.sum(axis=1, keepdims=True)  # unit gain at DC
        out = np.einsum("ij,ij->i", buffer[indices - self._origin], weights)
        self._next += count * self.step
        keep_from = int(np.floor(self._next)) - self.half + 1 - self._origin
        keep_from = min(max(keep_from, 0), len(buffer))
        self._history = buffer[keep_from:]
        self._origin += keep_from
        return out.astype(np.float32)
