"""The motion figures of `musicscape bench --motion`, on frames with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from visualizer.motion import area_mean, frame_changes, motion_figures


def test_area_mean_averages_each_block():
    frame = np.zeros((128, 128, 3), np.uint8)
    frame[:2, :2, 0] = [[0, 4], [8, 12]]
    small = area_mean(frame)
    assert small.shape == (64, 64, 3) and small[0, 0, 0] == 6.0 and small.sum() == 6.0
    with pytest.raises(ValueError, match="does not divide into 64x64"):
        area_mean(np.zeros((100, 100, 3), np.uint8))


def _entry(index, beat=False, encoded=False, new=1, onset=0.0):
    return {
        "index": index,
        "time": index / 60,
        "new_analysis_frames": new,
        "beat": beat,
        "encoded": encoded,
        "onset": onset,
    }


def test_figures_from_known_changes():
    # Frame levels 3, 0, 0, 6, 6, 8, 9, 9: changes -, 3, 0, 6, 0, 2, 1, 0.
    levels = np.array([3, 0, 0, 6, 6, 8, 9, 9], float)
    frames = np.broadcast_to(levels[:, None, None, None], (8, 2, 2, 3))
    changes = frame_changes(frames)
    np.testing.assert_array_equal(changes, [0, 3, 0, 6, 0, 2, 1, 0])
    log = {
        "fps": 60.0,
        "frames": [
            _entry(0, new=0),  # the first frame has no change: measured from frame 1 on
            _entry(1, encoded=True, onset=0.0),
            _entry(2, new=0, onset=0.0),
            _entry(3, beat=True, onset=1.0),
            _entry(4, new=0, onset=1.0),
            _entry(5, onset=0.5),
            _entry(6, new=0, onset=0.0),
            _entry(7, onset=0.0),
        ],
    }
    figures = motion_figures(changes, log)
    measured = np.array([3, 0, 6, 0, 2, 1, 0], float)
    onset = np.array([0, 0, 1, 1, 0.5, 0, 0])
    assert figures["frames"] == 7 and figures["beats"] == 1
    assert figures["beat_mean_change"] == 6.0
    assert figures["max_change"] == 6.0
    assert figures["mean_change"] == pytest.approx(12 / 7)
    assert figures["p99_change"] == pytest.approx(np.percentile(measured, 99))
    assert figures["onset_correlation"] == pytest.approx(np.corrcoef(measured, onset)[0, 1])
    # Without a new analysis frame: frames 2, 4, 6 (0, 0, 1); with: 1, 3, 5, 7 (3, 6, 2, 0).
    assert figures["still_ratio"] == pytest.approx((1 / 3) / (11 / 4))


def test_too_short_a_render_is_refused():
    with pytest.raises(ValueError, match="2 frames: too few"):
        motion_figures(np.zeros(2), {"fps": 60.0, "frames": [_entry(0), _entry(1)]})
