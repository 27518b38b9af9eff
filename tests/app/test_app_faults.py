"""Faults the window must say in words and get over by itself: a reload refused for its
metadata, a generator that turns to NaN or fails while running (real ONNX models built to
do so when the held category's prototype drives their input)."""

from __future__ import annotations

import dataclasses
import shutil

import onnx

from visualizer.app.frame_worker import NON_FINITE_IMAGE
from visualizer.app.scene_director import HOLD
from visualizer.model_files import ENCODER_FILE, GENERATOR_FILE

from .onnx_models import CATEGORIES, build_encoder, build_generator, small_metadata

FRAME_TIMEOUT_MS = 10_000


def wait_for_frames(qtbot, window, count: int) -> None:
    start = window.canvas.frames_painted
    qtbot.waitUntil(lambda: window.canvas.frames_painted >= start + count, timeout=FRAME_TIMEOUT_MS)


def test_a_reload_refused_for_its_metadata_keeps_painting_and_a_good_reload_follows(
    qtbot, make_window, tmp_path, model_dir
):
    directory = tmp_path / "models"
    shutil.copytree(model_dir, directory)
    window = make_window(directory)
    wait_for_frames(qtbot, window, 5)
    running = window.runtime
    model = onnx.load(str(directory / ENCODER_FILE))
    (prop,) = [p for p in model.metadata_props if p.key == "musicscape.scene_memory_seconds"]
    prop.value = "1e308"
    onnx.save(model, str(directory / ENCODER_FILE))
    with qtbot.waitSignal(window.model_loader.failed, timeout=FRAME_TIMEOUT_MS):
        assert window.reload_models()
    assert window.faults["models"] == (
        "Reload failed, still showing the previous models: music_encoder.onnx: "
        "musicscape.scene_memory_seconds must be a number from 0 to 3600, got 1e+308"
    )
    assert window.runtime is running
    wait_for_frames(qtbot, window, 10)  # the running models keep painting
    shutil.copy(model_dir / ENCODER_FILE, directory / ENCODER_FILE)
    with qtbot.waitSignal(window.model_loader.loaded, timeout=FRAME_TIMEOUT_MS):
        assert window.reload_models()
    assert "models" not in window.faults and window.runtime is not running
    wait_for_frames(qtbot, window, 10)


def _trap_models(directory, **trap):
    """Models whose generator misbehaves once feature[0] passes 5: holding the first
    category glides the feature to its prototype, whose feature[0] is 10."""
    rows = [[0.0] * 32 for _ in CATEGORIES]
    rows[0][0] = 10.0
    metadata = dataclasses.replace(
        small_metadata(), category_prototypes=tuple(tuple(row) for row in rows)
    )
    directory.mkdir()
    build_encoder(directory / ENCODER_FILE, metadata)
    build_generator(directory / GENERATOR_FILE, metadata, **trap)
    return directory


def test_nan_frames_are_a_fault_never_painted_and_the_fault_clears_when_frames_flow(
    qtbot, make_window, tmp_path
):
    window = make_window(_trap_models(tmp_path / "models", nan_above=5.0))
    wait_for_frames(qtbot, window, 5)
    assert "worker" not in window.faults
    window.set_scene(HOLD, 0)
    qtbot.waitUntil(lambda: window.worker.bad_frames > 0, timeout=FRAME_TIMEOUT_MS)
    qtbot.waitUntil(lambda: "worker" in window.faults, timeout=FRAME_TIMEOUT_MS)
    assert window.faults["worker"] == NON_FINITE_IMAGE
    painted, bad = window.canvas.frames_painted, window.worker.bad_frames
    qtbot.waitUntil(lambda: window.worker.bad_frames > bad + 10, timeout=FRAME_TIMEOUT_MS)
    assert window.canvas.frames_painted <= painted + 1  # one good frame may have been queued
    window.set_auto_mode()  # the feature glides back below the trap
    qtbot.waitUntil(lambda: "worker" not in window.faults, timeout=FRAME_TIMEOUT_MS)
    wait_for_frames(qtbot, window, 10)
    assert "worker" not in window.faults


def test_the_picture_stopped_banner_goes_once_good_models_paint(
    qtbot, make_window, tmp_path, model_dir
):
    directory = _trap_models(tmp_path / "models", fail_above=5.0)
    window = make_window(directory)
    wait_for_frames(qtbot, window, 5)
    window.set_scene(HOLD, 0)
    qtbot.waitUntil(lambda: "worker" in window.faults, timeout=FRAME_TIMEOUT_MS)
    assert window.faults["worker"].startswith("The picture stopped: ")
    for name in (ENCODER_FILE, GENERATOR_FILE):
        shutil.copy(model_dir / name, directory / name)
    with qtbot.waitSignal(window.model_loader.loaded, timeout=FRAME_TIMEOUT_MS):
        assert window.reload_models()
    wait_for_frames(qtbot, window, 10)
    assert "worker" not in window.faults
