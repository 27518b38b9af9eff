"""MIDI clock (visualizer/app/midi_clock.py): the clock's beats, bars and tempo from real mido
messages with known times; the window's beats on a clock ticking in real time on another
thread (as rtmidi's callback thread delivers it), and on the music's onsets once it stops;
a real virtual MIDI port where ALSA has a sequencer."""

from __future__ import annotations

import os
import threading
import time

import mido
import numpy as np
import pytest

from visualizer.app.beat_grid import BAR_BEATS
from visualizer.app.midi_clock import (
    LOST_AFTER_SECONDS,
    MIN_TEMPO_TICKS,
    TICKS_PER_BEAT,
    ClockState,
    MidiClock,
)
from visualizer.app.midi_control import ALSA_SEQUENCER

from .conftest import beat_times

TICK = mido.Message("clock")
START, STOP, CONTINUE = mido.Message("start"), mido.Message("stop"), mido.Message("continue")
TIMEOUT_MS = 10_000


class Clock:
    """A perf_counter the test sets: `now`."""

    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def tick_seconds(tempo_bpm: float) -> float:
    return 60.0 / tempo_bpm / TICKS_PER_BEAT


def send_ticks(clock: MidiClock, now: Clock, start: float, count: int, tempo_bpm: float):
    """`count` ticks from `start` at `tempo_bpm`; the time `now` follows them. Returns the
    ticks' times."""
    times = start + tick_seconds(tempo_bpm) * np.arange(count)
    for tick_time in times:
        now.now = float(tick_time)
        assert clock.take(TICK, float(tick_time))
    return times


def test_start_then_ticks_give_each_beat_at_its_tick_the_bar_s_first_marked():
    now = Clock()
    clock = MidiClock(now)
    cursor = clock.beats()
    assert clock.take(START, 100.0)
    times = send_ticks(clock, now, 100.0, 1, 120.0)
    assert cursor.read(now.now).tempo_bpm is None  # one tick: no tempo yet
    given = []
    for index in range(1, 9 * TICKS_PER_BEAT + 1):  # the rest, read after each tick
        tick_time = 100.0 + index * tick_seconds(120.0)
        now.now = tick_time
        clock.take(TICK, tick_time)
        reading = cursor.read(tick_time)
        if index + 1 >= MIN_TEMPO_TICKS:
            assert reading.tempo_bpm == pytest.approx(120.0, abs=1e-9)
        given += reading.beats
    # The cursor found its place at the first tempo (half a beat in): beats 1 ... 9 after.
    np.testing.assert_allclose([beat.time for beat in given], 100.0 + 0.5 * np.arange(1, 10))
    assert [beat.downbeat for beat in given] == [i % BAR_BEATS == 0 for i in range(1, 10)]
    assert times[0] == 100.0


def test_the_tempo_and_beats_average_out_a_tick_s_jitter():
    now = Clock()
    clock = MidiClock(now)
    clock.take(START, 0.0)
    ideal = 100.0 + tick_seconds(124.0) * np.arange(6 * TICKS_PER_BEAT + 1)
    jitter = np.random.default_rng(7).uniform(-1e-3, 1e-3, len(ideal))  # a USB interface's
    cursor = clock.beats()
    given = []
    for ideal_time, late in zip(ideal, jitter, strict=True):
        now.now = float(ideal_time + late)
        clock.take(TICK, now.now)
        reading = cursor.read(now.now)
        given += reading.beats
    assert reading.tempo_bpm == pytest.approx(124.0, abs=0.2)
    given += cursor.read(now.now + 0.01).beats  # the last beat's line time may follow its tick
    beat_ideals = ideal[::TICKS_PER_BEAT][2:]  # beats 2 ... 6: two beats of ticks behind each
    got = np.array([beat.time for beat in given])[-len(beat_ideals) :]
    assert np.max(np.abs(got - beat_ideals)) < 0.6e-3  # each tick alone: up to 1 ms off


def test_song_position_then_continue_counts_from_that_sixteenth():
    now = Clock()
    clock = MidiClock(now)
    clock.take(STOP, 0.0)
    clock.take(mido.Message("songpos", pos=6), 0.0)  # six sixteenths: a beat and a half in
    clock.take(CONTINUE, 0.0)
    cursor = clock.beats()
    send_ticks(clock, now, 10.0, MIN_TEMPO_TICKS, 120.0)
    assert cursor.read(now.now).beats == []  # finds its place (no beat yet: tick 36 ... 47)
    times = send_ticks(clock, now, 10.0 + MIN_TEMPO_TICKS * tick_seconds(120.0), 140, 120.0)
    beats = []
    for tick_time in times[:: TICKS_PER_BEAT // 2]:
        beats += cursor.read(float(tick_time)).beats
    # Ticks 36, 37, ... : beats at ticks 48 (the third beat) and every 24 after; the bar's
    # first at 96.
    first = 10.0 + (48 - 36) * tick_seconds(120.0)
    np.testing.assert_allclose([beat.time for beat in beats], first + 0.5 * np.arange(6))
    assert [beat.downbeat for beat in beats] == [False, False, True, False, False, False]


def test_stopped_or_gone_the_clock_gives_no_tempo_and_the_music_s_beats_come_back():
    now = Clock()
    clock = MidiClock(now)
    clock.take(START, 0.0)
    cursor = clock.beats()
    send_ticks(clock, now, 0.0, 3 * TICKS_PER_BEAT, 120.0)
    assert cursor.read(now.now).tempo_bpm == pytest.approx(120.0)
    assert clock.state().running
    clock.take(STOP, now.now)
    times = send_ticks(clock, now, now.now + tick_seconds(120.0), 2 * TICKS_PER_BEAT, 120.0)
    reading = cursor.read(float(times[-1]))
    assert reading.tempo_bpm is None and reading.beats == []  # still ticking, but stopped
    state = clock.state()
    assert state.ticking and not state.running and state.tempo_bpm == pytest.approx(120.0)
    clock.take(CONTINUE, now.now)
    send_ticks(clock, now, now.now + tick_seconds(120.0), TICKS_PER_BEAT, 120.0)
    assert cursor.read(now.now).tempo_bpm == pytest.approx(120.0)
    now.now += LOST_AFTER_SECONDS + 0.01  # the cable is pulled: no tick comes
    assert cursor.read(now.now).tempo_bpm is None
    assert clock.state() == ClockState(False, False, None)


def test_a_clock_that_never_sends_start_beats_from_its_first_tick_without_a_bar():
    now = Clock()
    clock = MidiClock(now)
    cursor = clock.beats()
    send_ticks(clock, now, 5.0, MIN_TEMPO_TICKS, 100.0)
    assert cursor.read(now.now).tempo_bpm == pytest.approx(100.0)
    times = send_ticks(clock, now, now.now + tick_seconds(100.0), 5 * TICKS_PER_BEAT, 100.0)
    beats = []
    for tick_time in times[::6]:
        beats += cursor.read(float(tick_time)).beats
    np.testing.assert_allclose([beat.time for beat in beats], 5.0 + 0.6 * np.arange(1, 6))
    assert not any(beat.downbeat for beat in beats)


def test_the_cursor_gives_a_beat_only_when_due_and_after_a_stall_only_the_newest():
    now = Clock()
    clock = MidiClock(now)
    clock.take(START, 0.0)
    cursor = clock.beats()
    send_ticks(clock, now, 0.0, TICKS_PER_BEAT + 1, 120.0)  # beats at 0.0 and 0.5
    assert cursor.read(0.4).beats == []  # finds its place: the beat at 0 is behind it
    assert cursor.read(0.49).beats == []  # the beat at 0.5 is not due yet (an A/V offset)
    assert [beat.time for beat in cursor.read(0.5).beats] == pytest.approx([0.5])
    assert cursor.read(0.51).beats == []  # given once
    send_ticks(clock, now, 0.5 + tick_seconds(120.0), 3 * TICKS_PER_BEAT, 120.0)
    late = cursor.read(now.now).beats  # three beats went by unread
    assert [beat.time for beat in late] == pytest.approx([2.0])


def test_one_input_s_clock_is_followed_until_it_stops_ticking():
    now = Clock()
    clock = MidiClock(now)
    cursor = clock.beats()
    mixer, keyboard = tick_seconds(120.0), tick_seconds(90.0)
    assert clock.take(START, 0.0, "DJM")
    for index in range(3 * TICKS_PER_BEAT):  # the mixer at 120 BPM, a keyboard's 90 between
        now.now = index * mixer
        clock.take(TICK, now.now, "DJM")
        assert clock.take(TICK, now.now + 0.1 * mixer, "keyboard")  # taken, and dropped
        assert clock.take(STOP, now.now + 0.1 * mixer, "keyboard")
        cursor.read(now.now)
    assert cursor.read(now.now).tempo_bpm == pytest.approx(120.0)
    assert clock.state().source == "DJM" and clock.state().running
    start = now.now + LOST_AFTER_SECONDS + 0.1  # the mixer's cable is pulled
    for index in range(TICKS_PER_BEAT):
        now.now = start + index * keyboard
        clock.take(TICK, now.now, "keyboard")
    assert cursor.read(now.now).tempo_bpm == pytest.approx(90.0)  # now the keyboard's
    assert clock.state().source == "keyboard"


def test_other_messages_are_left_for_midi_learn():
    clock = MidiClock()
    for message in (
        mido.Message("note_on", note=36, velocity=100),
        mido.Message("control_change", control=7, value=64),
        mido.Message("program_change", program=3),
    ):
        assert not clock.take(message, 1.0)
    assert clock.state() == ClockState(False, False, None)


class ClockSender:
    """The show's gear: a MIDI clock at `tempo_bpm` from Start, ticking in real time on its
    own thread into `clock`, each tick stamped with its scheduled time (as rtmidi stamps a
    message when it arrives; here the arrival is the schedule, so the test knows each
    beat's time exactly)."""

    def __init__(self, clock: MidiClock, tempo_bpm: float):
        self.clock, self.seconds = clock, tick_seconds(tempo_bpm)
        self.start_time = time.perf_counter() + 0.05
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        self.clock.take(START, self.start_time)
        index = 0
        while not self._stop.is_set():
            due = self.start_time + index * self.seconds
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            self.clock.take(TICK, due)
            index += 1

    def stop_transport(self) -> None:
        """Stop, as a DJ's player does: the ticks go on (most gear keeps its clock running)."""
        self.clock.take(STOP, time.perf_counter())

    def unplug(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def test_the_window_beats_on_the_clock_and_on_the_music_once_it_stops(
    qtbot, make_window, model_dir, beats_file
):
    window = make_window(model_dir)
    assert window.play_file(beats_file)  # a burst every 0.5 s: the music's own beat
    window.stage.perform("midi_clock", (1,))  # OSC /musicscape/midi_clock 1
    assert window.settings.midi_clock_enabled and window.stage.beats.midi_clock_button.isChecked()
    assert window.worker_settings.beat_grid is window.stage.beats.midi_clock
    assert window.stage.beats.midi_clock_label.text() == "no clock: beats from the music"
    gear = ClockSender(window.stage.beats.midi_clock, 125.0)  # a beat every 0.48 s
    try:
        qtbot.waitUntil(
            lambda: window.stage.beats.midi_clock_label.text() == "125.0 BPM: beats on the clock",
            timeout=TIMEOUT_MS,
        )
        qtbot.waitUntil(
            lambda: window.panel.tempo_label.text() == "125.0 BPM (MIDI clock)",
            timeout=TIMEOUT_MS,
        )
        assert window.stage.state()["midi_clock"] == {"on": True, "running": True}
        times = beat_times(qtbot, window, 2.5)
        assert len(times) >= 4
        beats = np.round((times - gear.start_time) / 0.48)
        np.testing.assert_allclose(times, gear.start_time + 0.48 * beats, atol=1e-6)
        assert np.all(np.diff(beats) == 1)  # every beat of the clock, each once

        gear.stop_transport()  # the music's beats again, the clock still ticking
        qtbot.waitUntil(
            lambda: window.stage.beats.midi_clock_label.text() == "stopped: beats from the music",
            timeout=TIMEOUT_MS,
        )
        qtbot.wait(1000)
        times = beat_times(qtbot, window, 3.0)
        assert len(times) >= 4
        assert abs(np.median(np.diff(times)) - 0.5) < 0.03
        assert not window.panel.tempo_label.text().endswith("(MIDI clock)")
    finally:
        gear.unplug()
    qtbot.waitUntil(
        lambda: window.stage.beats.midi_clock_label.text() == "no clock: beats from the music",
        timeout=TIMEOUT_MS,
    )

    window.stage.perform("midi_clock")  # no argument: toggles off
    assert not window.stage.beats.following_midi_clock and not window.settings.midi_clock_enabled
    assert window.stage.beats.midi_clock_label.text() == "off"
    assert window.worker_settings.beat_grid is None


def test_one_beat_grid_at_a_time_and_the_choice_is_remembered(qtbot, make_window, model_dir):
    window = make_window(model_dir)
    window.stage.beats.set_midi_clock(True)
    if window.stage.beats.set_link(True):  # the link extra is installed: Link takes over
        assert (
            not window.stage.beats.following_midi_clock and not window.settings.midi_clock_enabled
        )
        assert window.worker_settings.beat_grid is window.stage.beats.link_session
        window.stage.beats.set_midi_clock(True)  # and gives way again
        assert window.stage.beats.link_session is None and not window.settings.link_enabled
    else:  # without it, Link cannot start and the clock stays followed
        assert window.stage.beats.following_midi_clock
    assert window.worker_settings.beat_grid is window.stage.beats.midi_clock
    window.close()
    again = make_window(model_dir)  # the same settings
    assert (
        again.stage.beats.following_midi_clock and again.stage.beats.midi_clock_button.isChecked()
    )
    assert again.worker_settings.beat_grid is again.stage.beats.midi_clock
    assert again.stage.beats.link_session is None


@pytest.mark.skipif(
    not os.path.exists(ALSA_SEQUENCER), reason=f"no ALSA sequencer ({ALSA_SEQUENCER} missing)"
)
def test_a_real_virtual_port_s_clock_reaches_the_window(qtbot, make_window, model_dir):
    mido.set_backend("mido.backends.rtmidi")
    with mido.open_output("musicscape-test-clock", virtual=True) as gear:
        time.sleep(0.2)
        window = make_window(model_dir)
        assert window.stage.open_midi()
        window.stage.beats.set_midi_clock(True)
        gear.send(START)
        end = time.perf_counter() + 3.0
        seconds = tick_seconds(120.0)
        next_tick = time.perf_counter()
        while time.perf_counter() < end:
            gear.send(TICK)
            next_tick += seconds
            qtbot.wait(max(0, round((next_tick - time.perf_counter()) * 1000)))
        state = window.stage.beats.midi_clock.state()
        assert state.running and state.tempo_bpm == pytest.approx(120.0, abs=2.0)
