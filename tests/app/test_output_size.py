"""The app's output size: the largest that holds the display rate, or the one asked for."""

from __future__ import annotations

import numpy as np

from visualizer.app.frame_worker import WorkerSettings
from visualizer.app.model_runtime import ModelRuntime, default_model_dir
from visualizer.app.output_size import CANDIDATE_SIZES, pick_output
from visualizer.upscale import Upscaler

from .test_main_window import wait_for_frames


def test_the_largest_size_that_fits_the_frame_interval_is_picked():
    runtime = ModelRuntime(default_model_dir(), intra_op_threads=1)
    plain = Upscaler()
    assert pick_output(runtime, plain, fps=0.01) == (max(CANDIDATE_SIZES), plain)  # 50 s
    # No machine generates and resizes a frame in 0.5 ns: the generator's own size.
    size, upscaler = pick_output(runtime, plain, fps=1e9)
    assert size == runtime.metadata.image_size and not upscaler.learned


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


def _nearest_x2_upscaler(directory):
    """A real upscaler.onnx: each pixel doubled (ONNX Resize, nearest), with its metadata."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from visualizer.upscale import UPSCALER_FILE, UpscalerMetadata, load_upscaler

    scales = numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales")
    graph = helper.make_graph(
        [helper.make_node("Resize", ["image", "", "scales"], ["upscaled"], mode="nearest")],
        "x2",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["b", 3, "h", "w"])],
        [helper.make_tensor_value_info("upscaled", TensorProto.FLOAT, ["b", 3, "H", "W"])],
        [scales],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    helper.set_model_props(model, UpscalerMetadata(2, 64, "nearest-x2").to_props())
    onnx.save(model, str(directory / UPSCALER_FILE))
    return load_upscaler(directory)


def test_a_learned_upscaler_that_fits_is_used(tmp_path):
    runtime = ModelRuntime(default_model_dir(), intra_op_threads=1)
    learned = _nearest_x2_upscaler(tmp_path)
    assert learned.learned
    assert pick_output(runtime, learned, fps=0.01) == (max(CANDIDATE_SIZES), learned)
    size, upscaler = pick_output(runtime, learned, fps=1e9)  # nothing fits
    assert size == runtime.metadata.image_size and not upscaler.learned
