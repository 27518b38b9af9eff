"""Tap tempo (visualizer/app/tap_tempo.py): known answers for taps at known times (a steady
120 BPM, jitter averaged, a lone tap on the one, a bounce, a drifting tapper), the cursor the
worker reads, and the running window beating on taps made in real time by key and button
(HTTP's taps: test_http_remote.py)."""

from __future__ import annotations

import time

import mido
import numpy as np
import pytest
from PyQt6.QtCore import QEvent, Qt
from PyQt6.QtGui import QKeyEvent
from PyQt6.QtWidgets import QApplication

from visualizer.app.scene_director import HOLD, SceneMode
from visualizer.app.tap_tempo import MAX_GAP_SECONDS, MAX_TAPS, TapTempo

from .conftest import beat_times

TIMEOUT_MS = 10_000


def tapped(times) -> TapTempo:
    taps = TapTempo()
    for at in times:
        taps.tap(float(at))
    return taps


def test_steady_taps_give_their_tempo_and_a_grid_through_them():
    taps = tapped(100.0 + 0.5 * np.arange(4))
    grid = taps.grid()
    assert grid.tempo_bpm == pytest.approx(120.0, abs=1e-9)
    assert grid.anchor == pytest.approx(100.0, abs=1e-9)  # the run's first tap: beat 0
    assert taps.state().run_taps == 4
    cursor = taps.beats()
    reading = cursor.read(101.5 + 0.01)  # just after the last tap
    assert reading.tempo_bpm == pytest.approx(120.0)
    assert [beat.time for beat in reading.beats] == pytest.approx([101.5])  # that tap's beat
    given = [beat for now in np.arange(101.52, 103.9, 0.016) for beat in cursor.read(now).beats]
    times = np.array([beat.time for beat in given])
    np.testing.assert_allclose(times, 102.0 + 0.5 * np.arange(4), atol=1e-9)  # each once
    assert [beat.downbeat for beat in given] == [True, False, False, False]  # 102 is beat 4


def test_jitter_is_averaged_out_and_a_lone_tap_later_moves_the_bar_keeping_the_tempo():
    jitter = np.random.default_rng(7).uniform(-0.01, 0.01, MAX_TAPS)  # a hand's +-10 ms
    taps = tapped(10.0 + 60.0 / 128.0 * np.arange(MAX_TAPS) + jitter)
    assert abs(taps.grid().tempo_bpm - 128.0) < 0.5
    tempo = taps.grid().tempo_bpm
    taps.tap(30.0)  # long after: a lone tap on the one
    grid = taps.grid()
    assert (grid.tempo_bpm, grid.anchor, taps.state().run_taps) == (tempo, 30.0, 1)
    cursor = taps.beats()
    assert [(beat.time, beat.downbeat) for beat in cursor.read(30.005).beats] == [(30.0, True)]
    assert cursor.read(30.01).beats == []


def test_a_bounce_is_one_tap_and_a_pause_starts_a_new_run():
    taps = tapped([5.0, 5.05, 5.6])  # a pad that bounced 50 ms after the first tap
    assert taps.grid().period == pytest.approx(0.6)
    assert taps.state().run_taps == 2
    taps.tap(5.6 + MAX_GAP_SECONDS + 0.1)  # the hand stopped: a new run, one tap so far
    assert taps.state().run_taps == 1 and taps.grid().period == pytest.approx(0.6)
    taps.tap(5.6 + MAX_GAP_SECONDS + 0.5)  # its second tap sets the tempo anew
    assert taps.grid().period == pytest.approx(0.4) and taps.state().run_taps == 2
    taps.forget()
    assert taps.grid() is None and taps.state().run_taps == 0
    assert taps.beats().read(20.0).tempo_bpm is None


def test_a_long_run_follows_a_tapper_who_drifts():
    gaps = np.concatenate([np.full(8, 0.5), np.full(MAX_TAPS, 0.45)])  # 120 BPM, then 133.3
    taps = tapped(np.concatenate([[0.0], np.cumsum(gaps)]))
    assert taps.grid().tempo_bpm == pytest.approx(60.0 / 0.45, abs=1e-6)  # the last 8 only
    assert taps.state().run_taps == 1 + len(gaps)


def test_a_cursor_finds_its_place_and_after_a_stall_gives_only_the_newest_beat():
    taps = tapped([0.0, 0.5])
    cursor = taps.beats()
    assert cursor.read(10.01).beats == []  # made long after the taps: it only finds its place
    beats = cursor.read(12.26).beats  # a stall of 2.25 s: beats 21 to 24 were due
    assert [(beat.time, beat.downbeat) for beat in beats] == [(12.0, True)]
    assert cursor.read(12.3).beats == []


def test_the_window_beats_on_taps_made_by_key_and_button(qtbot, make_window, model_dir, beats_file):
    window = make_window(model_dir)
    stage = window.stage
    assert window.play_file(beats_file)  # a burst every 0.5 s: the music's own beat
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)  # shortcuts need an active window
    assert stage.beats.tap_label.text() == "off: tap the beat from a bar's first"
    assert not stage.beats.forget_taps_button.isEnabled()  # nothing to forget yet
    period = 60.0 / 96.0  # tapping 96 BPM over music at 120
    first = time.perf_counter()
    for index in range(6):  # the K key, then the button, as a hand taps (each press's time)
        qtbot.wait(max(0, round((first + index * period - time.perf_counter()) * 1000)))
        if index % 2:
            qtbot.mousePress(stage.beats.tap_button, Qt.MouseButton.LeftButton)
            qtbot.mouseRelease(stage.beats.tap_button, Qt.MouseButton.LeftButton)
        else:
            qtbot.keyClick(window, Qt.Key.Key_K)
        if index == 0:
            assert stage.beats.tap_label.text() == "1 tap: tap again on the next beat"
            assert not stage.beats.following_taps and window.worker_settings.beat_grid is None
    assert stage.beats.following_taps and window.worker_settings.beat_grid is stage.beats.tap_tempo
    grid = stage.beats.tap_tempo.grid()
    assert abs(grid.tempo_bpm - 96.0) < 2.0  # the event loop's own jitter, averaged
    assert (
        stage.beats.tap_label.text() == f"{grid.tempo_bpm:.1f} BPM from 6 taps: beats on the taps"
    )
    assert stage.state()["tap"] == {"on": True, "tempo_bpm": grid.tempo_bpm}
    qtbot.waitUntil(
        lambda: window.panel.tempo_label.text() == f"{grid.tempo_bpm:.1f} BPM (tap tempo)",
        timeout=TIMEOUT_MS,
    )
    times = beat_times(qtbot, window, 2.5)
    assert len(times) >= 3
    beats = np.round((times - grid.anchor) / grid.period)
    np.testing.assert_allclose(times, grid.anchor + grid.period * beats, atol=1e-6)
    assert np.all(np.diff(beats) == 1)  # every tapped beat, each once, none of the music's

    assert stage.beats.forget_taps_button.isEnabled()
    qtbot.mouseClick(stage.beats.forget_taps_button, Qt.MouseButton.LeftButton)  # the music's again
    assert not stage.beats.following_taps and window.worker_settings.beat_grid is None
    assert stage.beats.tap_label.text() == "off: tap the beat from a bar's first"
    qtbot.wait(1000)
    times = beat_times(qtbot, window, 3.0)
    assert len(times) >= 4 and abs(np.median(np.diff(times)) - 0.5) < 0.03


def test_a_tap_grid_gives_way_to_the_midi_clock_and_takes_over_from_it(
    qtbot, make_window, model_dir
):
    window = make_window(model_dir)
    stage = window.stage
    now = time.perf_counter()
    stage.perform("tap", (), at=now - 0.5)  # a MIDI pad's taps, stamped as they arrived
    stage.perform("tap", (1,), at=now)
    assert stage.beats.tap_tempo.grid().period == pytest.approx(0.5)
    assert window.worker_settings.beat_grid is stage.beats.tap_tempo
    stage.perform("midi_clock", (1,))
    assert window.worker_settings.beat_grid is stage.beats.midi_clock
    assert not stage.beats.following_taps and stage.beats.tap_tempo.grid() is None
    stage.perform("tap", (), at=now + 1.0)
    stage.perform("tap", (), at=now + 1.5)
    assert window.worker_settings.beat_grid is stage.beats.tap_tempo
    assert not stage.beats.following_midi_clock and not window.settings.midi_clock_enabled
    assert stage.beats.tap_tempo.grid().anchor == pytest.approx(now + 1.0)


def test_a_held_key_taps_once_while_a_held_plus_keeps_stepping(qtbot, make_window, model_dir):
    window = make_window(model_dir)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)  # shortcuts need an active window

    def press(key: Qt.Key, text: str, repeated: bool) -> None:
        event = QKeyEvent(QEvent.Type.KeyPress, key, Qt.KeyboardModifier.NoModifier, text, repeated)
        QApplication.sendEvent(window, event)

    press(Qt.Key.Key_K, "k", repeated=False)
    for _ in range(3):  # the key held: the system repeats it, slower than a bounce
        qtbot.wait(200)
        press(Qt.Key.Key_K, "k", repeated=True)
    assert (
        window.stage.beats.tap_tempo.state().run_taps == 1 and not window.stage.beats.following_taps
    )
    reactivity = window.settings.reactivity
    press(Qt.Key.Key_Plus, "+", repeated=False)
    press(Qt.Key.Key_Plus, "+", repeated=True)
    assert window.settings.reactivity == pytest.approx(reactivity + 0.5)


def test_a_midi_pad_taps_at_the_time_its_message_arrived(qtbot, make_window, model_dir):
    window = make_window(model_dir)
    stage = window.stage
    pad = mido.Message("note_on", channel=9, note=36, velocity=100)
    stage.learn_midi("tap")
    stage.on_midi_message(pad, time.perf_counter())  # learnt, not a tap
    assert stage.beats.tap_tempo.state().run_taps == 0
    arrived = time.perf_counter()
    for beat in range(3):  # stamped on rtmidi's thread 0.4 s apart, handled together here
        stage.on_midi_message(pad, arrived + 0.4 * beat)
    assert stage.beats.tap_tempo.grid().period == pytest.approx(0.4, abs=1e-9)
    assert window.worker_settings.beat_grid is stage.beats.tap_tempo


def test_on_the_bar_a_scene_asked_for_starts_on_the_tapped_bar_s_first_beat(
    qtbot, make_window, model_dir, beats_file
):
    window = make_window(model_dir)
    stage = window.stage
    assert stage.perform("on_bar", (1,)) is None  # OSC /musicscape/on_bar 1
    assert window.settings.scene_on_bar and window.panel.on_bar.isChecked()
    assert window.play_file(beats_file)  # the music's own beats every 0.5 s, ignored now
    qtbot.waitUntil(lambda: stage.latest_packet is not None, timeout=TIMEOUT_MS)
    now = time.perf_counter()
    stage.perform("tap", (), at=now - 1.6)  # a bar from 1.6 s ago, a beat every 0.5 s:
    stage.perform("tap", (), at=now - 1.1)  # the next bar's first beat is at now + 0.4
    downbeat = now + 0.4
    window.set_scene(HOLD, 1)
    seen = {}

    def changed() -> bool:
        packet = stage.latest_packet
        if packet.pending_mode == SceneMode(HOLD, 1):
            seen.setdefault("waiting", time.perf_counter())
        if packet.scene_mode == SceneMode(HOLD, 1):
            seen.setdefault("changed", time.perf_counter())
        return "changed" in seen

    qtbot.waitUntil(changed, timeout=TIMEOUT_MS)
    assert seen["waiting"] < downbeat  # it waited for the bar …
    assert downbeat <= seen["changed"] < downbeat + 1.9  # … and came on its first beat
