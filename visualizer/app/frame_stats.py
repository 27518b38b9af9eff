"""What the screen actually showed: display times, frame intervals and audio-to-frame latency.

Recorded at paint time by the canvas. `latency` is display time minus the capture (or,
for a file, play) time of the beat that first influenced the frame. Each series keeps its
newest `history` values in an array allocated up front, so the app's memory does not climb
while the series fill (a deque of floats took ~32 bytes more per frame for the first five
minutes, which a soak reads as growth).
"""

from __future__ import annotations

import numpy as np


def percentile_ms(values, q: float) -> float | None:
    return float(np.percentile(np.asarray(values) * 1e3, q)) if len(values) else None


class RecentValues:
    """The newest `capacity` floats appended, oldest first: len, indexing, iteration and
    numpy conversion like a bounded deque, in one preallocated array."""

    def __init__(self, capacity: int):
        self._values = np.zeros(capacity, dtype=np.float64)
        self._appended = 0

    def append(self, value: float) -> None:
        self._values[self._appended % len(self._values)] = value
        self._appended += 1

    def clear(self) -> None:
        self._appended = 0

    def __len__(self) -> int:
        return min(self._appended, len(self._values))

    def __getitem__(self, index: int) -> float:
        count = len(self)
        if not -count <= index < count:
            raise IndexError(f"index {index} out of {count} values")
        oldest = self._appended - count
        return float(self._values[(oldest + index % count) % len(self._values)])

    def ordered(self) -> np.ndarray:
        """A copy of the values, oldest first."""
        count = len(self)
        start = (self._appended - count) % len(self._values)
        return np.roll(self._values, -start)[:count] if count else self._values[:0].copy()

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        values = self.ordered()
        return values if dtype is None else values.astype(dtype)

    def __iter__(self):
        return iter(self.ordered().tolist())


class FrameStats:
    def __init__(self, history: int = 20_000):
        self.display_times = RecentValues(history)
        self.intervals = RecentValues(history)
        self.latencies = RecentValues(history)
        self.sequences_shown = 0
        self.last_sequence = -1
        self.skipped = 0  # frames produced but never shown (newer ones replaced them)

    def clear(self) -> None:
        self.display_times.clear()
        self.intervals.clear()
        self.latencies.clear()

    def displayed(self, sequence: int, onset_time: float | None, now: float) -> None:
        if self.display_times:
            self.intervals.append(now - self.display_times[-1])
        self.display_times.append(now)
        if self.last_sequence >= 0 and sequence > self.last_sequence + 1:
            self.skipped += sequence - self.last_sequence - 1
        self.last_sequence = sequence
        self.sequences_shown += 1
        if onset_time is not None:
            self.latencies.append(now - onset_time)

    def fps(self, now: float, span: float = 1.0) -> float:
        """Frames shown in the last `span` seconds, per second."""
        recent = np.count_nonzero(self.display_times.ordered() >= now - span)
        return int(recent) / span

    def summary(self) -> dict[str, float | None]:
        duration = (
            self.display_times[-1] - self.display_times[0] if len(self.display_times) > 1 else 0
        )
        return {
            "fps": (len(self.display_times) - 1) / duration if duration > 0 else 0.0,
            "frame_ms_p50": percentile_ms(self.intervals, 50),
            "frame_ms_p95": percentile_ms(self.intervals, 95),
            "latency_ms_p50": percentile_ms(self.latencies, 50),
            "latency_ms_p95": percentile_ms(self.latencies, 95),
            "beats_measured": len(self.latencies),
        }
