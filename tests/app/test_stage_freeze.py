"""Freeze (Z, the Stage box's button, OSC / HTTP / MIDI `freeze`): the picture that goes out
holds still while the worker goes on hearing the music, the master still acts on it, and
off the live picture comes back; with no picture yet there is nothing to hold."""

from __future__ import annotations

import shutil
from dataclasses import replace

import numpy as np
from PyQt6.QtCore import Qt

from visualizer.app.output_level import dim

from .onnx_models import build_model_dir, small_metadata
from .test_main_window import FRAME_TIMEOUT_MS, wait_for_frames


def test_freeze_holds_the_picture_while_the_music_goes_on(
    qtbot, make_window, model_dir, beats_file
):
    window = make_window(model_dir)
    stage = window.stage
    assert window.play_file(beats_file)
    wait_for_frames(qtbot, window, 5)
    assert stage.perform("freeze", (1,)) is None  # OSC /musicscape/freeze 1
    held = stage.frozen
    assert stage.freeze_button.isChecked() and stage.state()["freeze"] is True
    assert stage.control_values()["freeze"] == 1.0
    wait_for_frames(qtbot, window, 10)
    assert stage.latest_packet.sequence > held.sequence  # the worker goes on
    assert np.array_equal(window.canvas.current_pixels(), held.image)
    stage.set_master(0.5)
    wait_for_frames(qtbot, window, 2)
    assert np.array_equal(window.canvas.current_pixels(), dim(held.image, 0.5))
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)  # shortcuts need an active window
    qtbot.keyClick(window, Qt.Key.Key_Z)
    assert stage.frozen is None and not stage.freeze_button.isChecked()
    stage.set_master(1.0)
    qtbot.waitUntil(lambda: not np.array_equal(window.canvas.current_pixels(), held.image))
    assert "freeze" in window.help_overlay.text()


def test_with_no_picture_yet_there_is_nothing_to_hold(make_window, tmp_path):
    window = make_window(tmp_path / "no-models")  # never a picture
    assert window.stage.attempt("freeze") == "no picture yet to hold"
    assert window.stage.frozen is None and not window.stage.freeze_button.isChecked()


def test_models_with_other_categories_end_the_freeze(
    qtbot, make_window, model_dir, tmp_path, beats_file
):
    """The held picture belongs to the models that made it: three categories where there
    were four, and it goes (the state names a category the new models have)."""
    directory = tmp_path / "models"
    shutil.copytree(model_dir, directory)
    window = make_window(directory)
    assert window.play_file(beats_file)
    wait_for_frames(qtbot, window, 5)
    assert window.stage.perform("freeze") is None
    three = replace(small_metadata(), categories=("sky", "water", "mountain"))
    build_model_dir(directory, three)
    with qtbot.waitSignal(window.model_loader.loaded, timeout=FRAME_TIMEOUT_MS):
        assert window.reload_models()
    qtbot.waitUntil(lambda: window.stage.frozen is None, timeout=FRAME_TIMEOUT_MS)
    assert not window.stage.freeze_button.isChecked()
    assert window.stage.state()["scene"] in ("sky", "water", "mountain")
