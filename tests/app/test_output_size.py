"""The app's output size: the largest that holds the display rate, or the one asked for."""

from __future__ import annotations

import pytest

from tests.test_upscale import save_upscaler
from visualizer.app.frame_worker import WorkerSettings
from visualizer.app.model_runtime import ModelRuntime, default_model_dir
from visualizer.app.output_size import (
    CANDIDATE_SIZES,
    OutputGovernor,
    OutputLevel,
    asked_level,
    output_levels,
    pick_output,
)
from visualizer.upscale import Upscaler, UpscalerMetadata, load_upscaler

from .test_main_window import wait_for_frames


def test_the_largest_size_that_fits_the_frame_interval_is_picked():
    runtime = ModelRuntime(default_model_dir(), intra_op_threads=1)
    plain = Upscaler()
    levels = output_levels(runtime.image_size, plain)
    assert pick_output(runtime, levels, fps=0.01) == OutputLevel(max(CANDIDATE_SIZES), plain)
    # No machine generates and resizes a frame in 0.5 ns: the generator's own size.
    assert pick_output(runtime, levels, fps=1e9) == OutputLevel(runtime.image_size, plain)


def test_frames_come_at_the_size_asked_for_and_the_panel_says_so(
    qtbot, make_window, model_dir, beats_file
):
    window = make_window(model_dir, worker_settings=WorkerSettings(output_size=96))
    assert window.play_file(beats_file)
    wait_for_frames(qtbot, window, 10)
    assert window.canvas.current_pixels().shape == (96, 96, 3)
    assert window.panel.picture_label.text() == "96 px (bicubic resize)"


def test_at_the_generators_own_size_the_panel_names_no_resize(
    qtbot, make_window, model_dir, beats_file
):
    own = ModelRuntime(model_dir).image_size
    window = make_window(model_dir, worker_settings=WorkerSettings(output_size=own))
    assert window.play_file(beats_file)
    wait_for_frames(qtbot, window, 10)
    assert window.canvas.current_pixels().shape == (own, own, 3)
    assert window.panel.picture_label.text() == f"{own} px (the generator's own size)"


def test_the_app_picks_a_size_and_shows_it(qtbot, make_window, model_dir, beats_file):
    window = make_window(model_dir)
    assert window.play_file(beats_file)
    wait_for_frames(qtbot, window, 10)
    size = window.worker.settings.output_size
    assert size in (*CANDIDATE_SIZES, window.runtime.image_size)
    assert window.canvas.current_pixels().shape == (size, size, 3)
    native = size == window.runtime.image_size
    resize = "the generator's own size" if native else "bicubic resize"
    assert window.panel.picture_label.text() == f"{size} px ({resize})"


def _nearest_x2_upscaler(directory):
    """A real upscaler.onnx: each pixel doubled."""
    save_upscaler(directory, UpscalerMetadata(scale=2, input_size=64, model_version="nearest-x2"))
    return load_upscaler(directory)


def test_a_size_asked_for_is_learned_from_the_upscalers_own_output_up(tmp_path):
    learned = _nearest_x2_upscaler(tmp_path)
    plain = Upscaler()
    # A 128-px generator and an x2 model: its own output is 256 px.
    assert asked_level(128, learned, 256) == OutputLevel(256, learned)
    assert asked_level(128, learned, 512) == OutputLevel(512, learned)
    below = asked_level(128, learned, 192)
    assert below.size == 192 and not below.upscaler.learned
    assert asked_level(128, plain, 512) == OutputLevel(512, plain)


def test_the_pick_reports_what_each_level_it_timed_cost():
    runtime = ModelRuntime(default_model_dir(), intra_op_threads=1)
    plain = Upscaler()
    levels = output_levels(runtime.image_size, plain)
    everything_fits, nothing_fits = {}, {}
    pick_output(runtime, levels, fps=0.01, timings=everything_fits)
    assert list(everything_fits) == levels  # the generator's own size, then each, in order
    assert all(seconds > 0 for seconds in everything_fits.values())
    pick_output(runtime, levels, fps=1e9, timings=nothing_fits)
    assert list(nothing_fits) == levels[:2]  # its own size, and the first that did not fit


def test_a_learned_upscaler_that_fits_is_used(tmp_path):
    runtime = ModelRuntime(default_model_dir(), intra_op_threads=1)
    learned = _nearest_x2_upscaler(tmp_path)
    assert learned.learned
    levels = output_levels(runtime.image_size, learned)
    assert pick_output(runtime, levels, fps=0.01) == OutputLevel(max(CANDIDATE_SIZES), learned)
    nothing_fits = pick_output(runtime, levels, fps=1e9)
    assert nothing_fits == levels[0]
    assert nothing_fits.size == runtime.image_size and not nothing_fits.upscaler.learned


def test_the_ladder_goes_from_the_generators_size_through_bicubic_to_learned(tmp_path):
    plain = Upscaler()
    assert output_levels(64, plain) == [OutputLevel(size, plain) for size in (64, *CANDIDATE_SIZES)]
    assert [level.size for level in output_levels(384, plain)] == [384, 512, 768, 1024]
    learned = _nearest_x2_upscaler(tmp_path)
    levels = output_levels(64, learned)
    assert [(level.size, level.upscaler.learned) for level in levels] == [
        (64, False),
        *((size, False) for size in CANDIDATE_SIZES),
        # the x2 model makes 128 px: smaller sizes would cost as much and show less
        *((size, True) for size in CANDIDATE_SIZES if size >= 128),
    ]
    assert CANDIDATE_SIZES[:3] == (128, 192, 256)  # rungs between 64 px and 256 px


def test_a_learned_upscaler_gives_no_levels_below_its_own_output(tmp_path):
    save_upscaler(tmp_path, UpscalerMetadata(scale=4, input_size=64, model_version="x4"))
    levels = output_levels(64, load_upscaler(tmp_path))
    assert [level.size for level in levels if level.upscaler.learned] == [256, 384, 512, 768, 1024]


def _governor(start_index: int = 2) -> OutputGovernor:
    """fps 10: one decision every 10 frames, a budget of 25 ms (FRAME_SHARE 0.25 of 100 ms),
    a level left for being slow waits 100 frames, then 200, ...; past its 20 warm-up frames,
    which nothing moves. Its ladder: 64, 256, 384, 512, 768, 1024 px."""
    plain = Upscaler()
    levels = [OutputLevel(size, plain) for size in (64, 256, 384, 512, 768, 1024)]
    governor = OutputGovernor(levels, levels[start_index], fps=10.0)
    assert governor.warmup_frames == 20
    assert _feed(governor, 1.0, 20) == [levels[start_index].size] * 20
    return governor


def _feed(governor: OutputGovernor, seconds: float, frames: int) -> list[int]:
    return [governor.record(seconds).size for _ in range(frames)]


def test_the_governor_steps_down_after_a_slow_second_and_up_after_an_easy_one():
    governor = _governor()
    assert governor.budget == 0.025 and governor.level.size == 384
    # the decision waits for a whole second of frames, and looks at its median: over 30 ms
    assert _feed(governor, 0.040, 9) == [384] * 9
    assert governor.record(0.001).size == 256  # median of nine 40 ms and one 1 ms: too slow
    assert governor.steps_down == 1
    # between three quarters of the budget and a fifth over it: stays
    assert _feed(governor, 0.020, 10) + _feed(governor, 0.029, 20) == [256] * 30
    # 384 was left for being slow (frame 30): not tried again for 100 frames (frame 130)
    assert _feed(governor, 0.001, 69) == [256] * 69  # frames 61-129
    assert governor.record(0.001).size == 384 and governor.steps_up == 1
    # an easy second above a level never left: straight up
    assert _feed(governor, 0.001, 10) == [384] * 9 + [512]
    # slow at 512: back down, and 512 waits 100 frames; a slow 384 goes on down
    assert _feed(governor, 0.040, 10)[-1] == 384
    assert _feed(governor, 0.040, 10)[-1] == 256 and governor.steps_down == 3


def test_the_governor_stays_inside_its_ladder():
    bottom = _governor(start_index=0)
    assert _feed(bottom, 1.0, 30) == [64] * 30 and bottom.steps_down == 0
    top = _governor(start_index=5)
    assert _feed(top, 0.0, 30) == [1024] * 30 and top.steps_up == 0
    with pytest.raises(ValueError, match="not one of the output levels"):
        OutputGovernor(output_levels(64, Upscaler()), OutputLevel(100, Upscaler()), fps=60.0)


def test_the_wait_before_a_retry_doubles_up_to_its_cap():
    governor = _governor(start_index=1)
    assert _feed(governor, 0.001, 10)[-1] == 384  # up
    waits = []
    for _ in range(8):
        assert _feed(governor, 0.040, 10)[-1] == 256  # too slow at 384: down
        frames = 1
        while governor.record(0.001).size == 256:  # easy at 256, until 384 is tried again
            frames += 1
        waits.append(frames)
    assert waits == [100, 200, 400, 800, 1600, 3200, 3200, 3200]  # at fps 10: 10 s to 320 s


def test_a_step_up_is_judged_by_the_next_levels_measured_extra_cost():
    """At 60 fps the budget is 4.17 ms: a second at 3.2 ms is over three quarters of it, so
    without timings the governor stays; timed at start, 128 px costs 0.3 ms more than
    64 px, which fits, and 192 px 1.2 ms more than 128 px, which does not."""
    plain = Upscaler()
    levels = [OutputLevel(size, plain) for size in (64, 128, 192)]
    timings = {levels[0]: 0.0030, levels[1]: 0.0033, levels[2]: 0.0045}
    timed = OutputGovernor(levels, levels[0], fps=60.0, timings=timings)
    untimed = OutputGovernor(levels, levels[0], fps=60.0)
    for governor in (timed, untimed):
        assert _feed(governor, 0.0032, 120) == [64] * 120  # warm-up
    assert _feed(timed, 0.0032, 60)[-1] == 128 and timed.steps_up == 1
    assert _feed(untimed, 0.0032, 60)[-1] == 64 and untimed.steps_up == 0
    assert _feed(timed, 0.0033, 120) == [128] * 120  # 3.3 + 1.2 ms does not fit
    assert _feed(timed, 0.0028, 60)[-1] == 192  # 2.8 + 1.2 ms does
