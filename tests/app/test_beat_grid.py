"""beat_grid.py's known answers: the line through evenly spaced times, and a steady grid's
beats in a span (bars counted from beat 0, before it too)."""

from __future__ import annotations

import pytest

from visualizer.app.beat_grid import fit_beat_line, steady_beats


def test_the_line_through_evenly_spaced_times_averages_their_jitter():
    assert fit_beat_line([1.0, 1.5, 2.0, 2.5]) == pytest.approx((0.5, 2.5))
    step, newest = fit_beat_line([0.0, 0.52, 0.98, 1.5])  # +-20 ms about a 0.5-s step
    assert step == pytest.approx(0.496) and newest == pytest.approx(1.494)


def test_a_steady_grid_gives_its_beats_in_a_span_each_once_bars_from_beat_0():
    beats = steady_beats(first=0.1, period=0.6, after=-1e-9, until=1.3)
    assert [beat.time for beat in beats] == pytest.approx([0.1, 0.7, 1.3])
    assert [beat.downbeat for beat in beats] == [True, False, False]
    assert steady_beats(0.1, 0.6, after=1.3, until=1.8) == []  # 1.3 was given; 1.9 is next
    earlier = steady_beats(first=2.0, period=0.5, after=-1e-9, until=0.6)  # before beat 0
    assert [(beat.time, beat.downbeat) for beat in earlier] == [(0.0, True), (0.5, False)]
