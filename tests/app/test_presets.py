"""Presets: looks stored and recalled by keys, OSC and MIDI in the real window, kept in a
real settings file; bad slots and bad stored looks refused in words."""

from __future__ import annotations

import dataclasses
import math
import time

import mido
import pytest
from PyQt6.QtCore import Qt
from pythonosc.udp_client import SimpleUDPClient

from visualizer.app.midi_control import MidiBindings, targets
from visualizer.app.presets import PRESET_SLOTS, Look, PresetError, slot_number
from visualizer.app.scene_director import AUTO, BIAS, HOLD, SceneMode
from visualizer.scene_memory import MAX_APP_SECONDS

from .onnx_models import build_model_dir, small_metadata

TIMEOUT_MS = 10_000
SKY_HELD = Look(HOLD, "sky", 2.0, 0.2, 30.0, 6.0)


def test_a_look_round_trips_through_json_and_says_itself_in_words():
    assert Look.from_json(SKY_HELD.to_json()) == SKY_HELD
    assert SKY_HELD.describe() == "hold sky, reactivity 2, feel 0.2, memory 30 s, cross-fade 6 s"
    assert Look(AUTO, "", 1.0, 0.5, 16.0, 1.5).describe() == (
        "auto, reactivity 1, feel 0.5, memory 16 s, cross-fade 1.5 s"
    )


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "[1, 2]",
        '{"mode": "hold", "category": "", "reactivity": 1, "feel_strength": 0.5, '
        '"scene_memory_seconds": 16}',  # holding nothing
        '{"mode": "fly", "category": "", "reactivity": 1, "feel_strength": 0.5, '
        '"scene_memory_seconds": 16}',
        '{"mode": "auto", "category": "", "reactivity": 7, "feel_strength": 0.5, '
        '"scene_memory_seconds": 16}',  # out of range
        '{"mode": "auto", "category": "", "reactivity": NaN, "feel_strength": 0.5, '
        '"scene_memory_seconds": 16}',
        '{"mode": "auto", "category": "", "reactivity": 1}',  # missing values
        '{"mode": "auto", "category": "", "reactivity": 1, "feel_strength": 0.5, '
        '"scene_memory_seconds": 16, "crossfade_seconds": 0}',  # a cut: under 0.3 s
        '{"mode": "auto", "category": "", "reactivity": 1, "feel_strength": 0.5, '
        '"scene_memory_seconds": 16, "crossfade_seconds": 1.5, "volume": 11}',  # no look's
    ],
)
def test_a_stored_value_that_is_no_look_reads_as_an_empty_slot(text):
    assert Look.from_json(text) is None


def test_slot_numbers_are_whole_numbers_1_to_8():
    assert [slot_number((value,)) for value in (1, 8, 3.0)] == [1, 8, 3]
    for args in ((0,), (9,), (2.5,), ("3",), (True,), (), (1, 2), (math.nan,)):
        with pytest.raises(PresetError, match="expected a preset number 1-8"):
            slot_number(args)


def test_a_stored_look_comes_back_exactly_and_outlives_the_window(
    qtbot, make_window, model_dir, settings
):
    window = make_window(model_dir)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)  # shortcuts need an active window
    assert window.panel.preset_label.text() == "none stored (Shift+F1 … F8)"
    window.set_scene(HOLD, 0)  # sky, the test models' first category
    window.set_reactivity(2.0)
    window.set_feel_strength(0.2)
    window.set_scene_memory(30.0)
    window.set_crossfade(6.0)
    qtbot.keyClick(window, Qt.Key.Key_F3, Qt.KeyboardModifier.ShiftModifier)
    assert window.panel.preset_label.text() == (
        "stored: 3\npreset 3 stored: hold sky, reactivity 2, feel 0.2, memory 30 s, cross-fade 6 s"
    )
    window.set_scene(BIAS, 3)
    window.set_reactivity(0.5)
    window.set_feel_strength(0.9)
    window.set_scene_memory(5.0)
    window.set_crossfade(0.5)
    qtbot.keyClick(window, Qt.Key.Key_F3)
    assert window.controls.current_look() == SKY_HELD
    assert (window.panel.reactivity.value(), window.panel.feel.value()) == (200, 20)
    assert window.panel.scene_memory.value() == 30 and window.panel.crossfade.value() == 6.0
    assert window.panel.mode_box.currentText() == "hold sky"
    qtbot.waitUntil(
        lambda: (
            window.worker.settings.scene_mode == SceneMode(HOLD, 0)
            and window.worker.settings.reactivity == 2.0
            and window.worker.settings.feel_strength == 0.2
            and window.worker.settings.scene_memory_seconds == 30.0
            and window.worker.settings.crossfade_seconds == 6.0
        ),
        timeout=TIMEOUT_MS,
    )
    assert window.panel.preset_label.text() == (
        "stored: 3\npreset 3: hold sky, reactivity 2, feel 0.2, memory 30 s, cross-fade 6 s"
    )
    window.set_auto_mode()
    later = make_window(model_dir)  # the same settings file: the preset is still there
    assert later.panel.preset_label.text() == "stored: 3"
    later.recall_preset(3)
    assert later.controls.current_look() == SKY_HELD


def test_an_empty_slot_or_a_category_the_models_lack_changes_nothing(
    qtbot, make_window, model_dir, settings
):
    window = make_window(model_dir)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    before = window.controls.current_look()
    qtbot.keyClick(window, Qt.Key.Key_F5)
    assert window.panel.preset_label.text() == (
        "none stored (Shift+F1 … F8)\npreset 5 is empty (Shift+F5 stores the look that runs)"
    )
    settings.set_preset(6, Look(BIAS, "forest", 1.0, 0.5, 16.0, 1.5).to_json())
    window.recall_preset(6)
    assert window.panel.preset_label.text() == (
        "stored: 6\npreset 6 biases toward 'forest', which these models do not have "
        "(sky, water, mountain, desert)"
    )
    assert window.controls.current_look() == before


def test_osc_stores_and_recalls_and_a_bad_slot_is_named(qtbot, make_window, model_dir):
    window = make_window(model_dir)
    assert window.stage.listen_osc(0)
    client = SimpleUDPClient("127.0.0.1", window.stage.osc_in.port)
    window.set_scene(HOLD, 2)  # mountain
    client.send_message("/musicscape/store_preset", 8)
    qtbot.waitUntil(lambda: window.settings.preset(8) != "", timeout=TIMEOUT_MS)
    window.set_auto_mode()
    client.send_message("/musicscape/preset", 8)
    qtbot.waitUntil(lambda: window.settings.scene_mode == HOLD, timeout=TIMEOUT_MS)
    assert window.settings.scene_category == "mountain"
    client.send_message("/musicscape/preset", 9)
    qtbot.waitUntil(lambda: "remote" in window.faults, timeout=TIMEOUT_MS)
    assert window.faults["remote"] == (
        "OSC /musicscape/preset: expected a preset number 1-8, got [9]"
    )
    client.send_message("/musicscape/preset", 2)
    qtbot.waitUntil(
        lambda: window.faults.get("remote", "").endswith("preset 2 is empty (Shift+F2 stores "
                                                         "the look that runs)"),
        timeout=TIMEOUT_MS,
    )  # fmt: skip


def test_a_midi_pad_recalls_a_preset(qtbot, make_window, model_dir, settings):
    assert {f"preset {n}" for n in range(1, PRESET_SLOTS + 1)} <= set(targets())
    bindings = MidiBindings(settings.store)
    bindings.learn("preset 4")
    pad = mido.Message("note_on", channel=9, note=44, velocity=100)
    bindings.handle(pad)
    assert bindings.handle(mido.Message("note_off", channel=9, note=44)) is None
    assert bindings.handle(pad) == ("preset", (4,))
    window = make_window(model_dir)
    settings.set_preset(4, Look(BIAS, "water", 0.0, 1.0, 0.0, 20.0).to_json())
    window.stage.learn_midi("preset 4")
    window.stage.on_midi_message(pad, time.perf_counter())  # learnt
    window.stage.on_midi_message(mido.Message("note_off", channel=9, note=44), time.perf_counter())
    window.stage.on_midi_message(pad, time.perf_counter())  # struck: recalled
    assert window.controls.current_look() == Look(BIAS, "water", 0.0, 1.0, 0.0, 20.0)


def test_a_models_scene_memory_beyond_what_the_app_offers_is_stored_as_the_most_it_offers(
    make_window, tmp_path
):
    metadata = dataclasses.replace(small_metadata(), scene_memory_seconds=600.0)
    window = make_window(build_model_dir(tmp_path / "models", metadata=metadata))
    window.store_preset(1)
    assert window.controls.current_look().scene_memory_seconds == MAX_APP_SECONDS
    assert window.panel.preset_label.text().endswith("memory 120 s, cross-fade 1.5 s")
