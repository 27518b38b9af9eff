"""Freeze (Z, the Stage box's button, OSC / HTTP / MIDI `freeze`): the picture that goes out
holds still while the worker goes on hearing the music, the master still acts on it, and
off the live picture comes back; with no picture yet there is nothing to hold."""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import Qt

from visualizer.app.output_level import dim

from .test_main_window import wait_for_frames


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
