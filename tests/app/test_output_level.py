"""visualizer/app/output_level.py: the master fader and the fading blackout, with known
answers on a clock the test sets, and the running window driven by them."""

from __future__ import annotations

import numpy as np
import pytest

from visualizer.app.app_settings import AppSettings, settings_from_file
from visualizer.app.frame_worker import WorkerSettings
from visualizer.app.output_level import GAIN_STEPS, OutputLevel, dim

TIMEOUT_MS = 15_000


def test_dim_rounds_every_value_to_the_nearest_and_leaves_full_level_alone():
    values = np.arange(256, dtype=np.uint8).reshape(16, 16, 1).repeat(3, axis=2)
    for gain in (0.0, 0.25, 0.5, 0.7, 0.999):
        steps = round(gain * GAIN_STEPS)
        expected = np.floor(values.astype(np.float64) * steps / GAIN_STEPS + 0.5)
        assert np.array_equal(dim(values, gain), expected.astype(np.uint8)), gain
    assert dim(values, 0.5)[..., 0].ravel()[[0, 1, 100, 200, 255]].tolist() == [0, 1, 50, 100, 128]
    assert dim(values, 1.0) is values and dim(values, 1.5) is values
    assert not dim(values, -0.2).any() and dim(values, 0.0).dtype == np.uint8


def test_a_blackout_fades_at_a_constant_rate_and_turns_back_without_a_jump():
    level = OutputLevel(fade_seconds=2.0)
    level.set_blackout(True, now=10.0)
    assert [level.lit(t) for t in (10.0, 10.5, 11.0, 12.0, 15.0)] == [1.0, 0.75, 0.5, 0.0, 0.0]
    level.set_blackout(False, now=11.0)  # undone halfway: back up from 0.5, at the same rate
    assert [level.lit(t) for t in (11.0, 11.5, 12.0, 20.0)] == [0.5, 0.75, 1.0, 1.0]
    level.set_blackout(True, now=20.0)
    level.set_fade_seconds(4.0, now=21.0)  # 0.5 left, now at a quarter a second
    assert [level.lit(t) for t in (21.0, 22.0, 23.0)] == [0.5, 0.25, 0.0]
    level.master = 0.5
    level.set_blackout(False, now=30.0)
    assert level.gain(32.0) == 0.25 and level.gain(40.0) == 0.5


def test_without_a_fade_the_blackout_is_a_cut():
    level = OutputLevel()
    level.set_blackout(True, now=1.0)
    assert level.lit(1.0) == 0.0 and level.gain(1.0) == 0.0
    level.set_blackout(False, now=2.0)
    assert level.gain(2.0) == 1.0


def test_the_fade_time_is_remembered_and_a_stored_one_out_of_range_is_not_used(tmp_path):
    path = str(tmp_path / "app.ini")
    AppSettings(settings_from_file(path)).blackout_fade_seconds = 2.5
    assert AppSettings(settings_from_file(path)).blackout_fade_seconds == 2.5
    for bad in ("11", "-1", "nan", "soon"):
        store = settings_from_file(path)
        store.setValue("stage/blackout_fade_seconds", bad)
        store.sync()
        assert AppSettings(settings_from_file(path)).blackout_fade_seconds == 0.0, bad


@pytest.mark.parametrize("stored", ["7", "-0.5", "nan"])
def test_a_stored_reactivity_out_of_range_reads_as_the_default(tmp_path, stored):
    store = settings_from_file(str(tmp_path / "app.ini"))
    store.setValue("scene/reactivity", stored)
    assert AppSettings(store).reactivity == 1.0


def shown_gain(window) -> float | None:
    """The gain between the worker's picture and the canvas's, if it is one of dim's."""
    packet, shown = window.stage.latest_packet, window.canvas.current_pixels()
    if packet is None or shown is None or shown.shape != packet.image.shape:
        return None
    image = packet.image
    bright = image.astype(np.int64).sum()
    estimate = shown.astype(np.int64).sum() / max(bright, 1)
    for steps in range(round(estimate * GAIN_STEPS) - 2, round(estimate * GAIN_STEPS) + 3):
        if 0 <= steps <= GAIN_STEPS and np.array_equal(dim(image, steps / GAIN_STEPS), shown):
            return steps / GAIN_STEPS
    return None


def test_the_window_dims_by_the_master_and_fades_its_blackout(
    qtbot, make_window, model_dir, beats_file, settings
):
    window = make_window(model_dir, worker_settings=WorkerSettings(output_size=96))
    stage = window.stage
    window.play_file(beats_file)
    qtbot.waitUntil(lambda: window.canvas.frames_painted > 3, timeout=TIMEOUT_MS)
    assert shown_gain(window) == 1.0
    stage.perform("master", (0.5,))
    assert stage.master_slider.value() == 50
    painted = window.canvas.frames_painted
    qtbot.waitUntil(lambda: window.canvas.frames_painted > painted + 1, timeout=TIMEOUT_MS)
    assert shown_gain(window) == 0.5
    stage.perform("master", (1,))
    qtbot.waitUntil(lambda: shown_gain(window) == 1.0, timeout=TIMEOUT_MS)
    stage.perform("blackout_fade", (1.5,))
    assert stage.fade_box.value() == 1.5 and settings.blackout_fade_seconds == 1.5
    stage.perform("blackout", ())
    gains = []

    def faded_out() -> bool:
        gain = shown_gain(window)
        if gain is not None and (not gains or gains[-1] != gain):
            gains.append(gain)
        return gain == 0.0

    qtbot.waitUntil(faded_out, timeout=TIMEOUT_MS)
    assert stage.blackout and gains[-1] == 0.0
    assert gains == sorted(gains, reverse=True)
    assert any(0.0 < gain < 1.0 for gain in gains)  # a fade, not a cut
    with pytest.raises(ValueError, match="expected one number 0-10, got 11"):
        stage.perform("blackout_fade", (11,))
    with pytest.raises(ValueError, match="expected one number 0-1, got 2"):
        stage.perform("master", (2,))
