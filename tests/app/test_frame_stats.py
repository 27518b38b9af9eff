"""Frame statistics: frame rate, frame times and beat-to-picture latency of what was painted."""

from __future__ import annotations

import pytest

from visualizer.app.frame_stats import FrameStats


def test_frame_stats_summary():
    stats = FrameStats()
    for index in range(11):
        stats.displayed(index * 2, 0.1 * index - 0.02 if index % 2 else None, 0.1 * index)
    summary = stats.summary()
    assert summary["fps"] == pytest.approx(10.0)
    assert summary["frame_ms_p50"] == pytest.approx(100.0)
    assert summary["latency_ms_p50"] == pytest.approx(20.0)
    assert stats.skipped == 10
