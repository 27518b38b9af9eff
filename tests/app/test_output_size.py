"""The app's output size: the largest that holds the display rate, or the one asked for."""

from __future__ import annotations

from visualizer.app.frame_worker import WorkerSettings
from visualizer.app.model_runtime import ModelRuntime, default_model_dir
from visualizer.app.output_size import CANDIDATE_SIZES, pick_output_size
from visualizer.upscale import Upscaler

from .test_app_window import wait_for_frames


def test_the_largest_size_that_fits_the_frame_interval_is_picked():
    runtime = ModelRuntime(default_model_dir(), intra_op_threads=1)
    assert pick_output_size(runtime, Upscaler(), fps=0.01) == max(CANDIDATE_SIZES)  # 50 s
    # No machine generates and resizes a frame in 0.5 ns: the generator's own size.
    assert pick_output_size(runtime, Upscaler(), fps=1e9) == runtime.metadata.image_size


def test_frames_come_at_the_size_asked_for_and_the_panel_says_so(
    qtbot, make_window, model_dir, beats_file
):
    window = make_window(model_dir, worker_settings=WorkerSettings(output_size=96))
    assert window.play_file(beats_file)
    wait_for_frames(qtbot, window, 10)
    assert window.canvas.current_pixels().shape == (96, 96, 3)
    assert window.panel.picture_label.text() == "96 px (bicubic resize)"


def test_the_app_picks_a_size_and_shows_it(qtbot, make_window, model_dir, beats_file):
    window = make_window(model_dir)
    assert window.play_file(beats_file)
    wait_for_frames(qtbot, window, 10)
    size = window.worker.settings.output_size
    assert size in (*CANDIDATE_SIZES, window.runtime.metadata.image_size)
    assert window.canvas.current_pixels().shape == (size, size, 3)
    assert window.panel.picture_label.text() == f"{size} px (bicubic resize)"
