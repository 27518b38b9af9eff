"""What the screen actually showed: display times, frame intervals and audio-to-frame latency.

Recorded at paint time by the canvas. `latency` is display time minus the capture (or,
for a file, play) time of the beat that first influenced the frame.
"""

from __future__ import annotations

from collections import deque

import numpy as np


def percentile_ms(values, q: float) -> float | None:
    return float(np.percentile(np.asarray(values) * 1e3, q)) if len(values) else None


class FrameStats:
    def __init__(self, history: int = 20_000):
        self.display_times: deque[float] = deque(maxlen=history)
        self.intervals: deque[float] = deque(maxlen=history)
        self.latencies: deque[float] = deque(maxlen=history)
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
        recent = 0
        for shown in reversed(self.display_times):
            if now - shown > span:
                break
            recent += 1
        return recent / span

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
