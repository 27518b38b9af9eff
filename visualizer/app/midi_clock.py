"""MIDI clock: the picture's beats on the clock of the show's gear (the `vj` extra's MIDI
inputs).

DJ mixers and players (Pioneer DJM, Traktor, Serato), drum machines, grooveboxes and DAWs
send MIDI clock where Ableton Link is not spoken: 24 Timing Clock ticks a quarter note,
Start (the song from its beginning: the next tick is the first beat of the first bar),
Stop, Continue and Song Position Pointer (sixteenth notes). With the MIDI clock on and a
clock running, the picture's beat pulses and the scene changes that wait for a beat come
on the clock's beats, a bar's first beat stronger, and the tempo shown and sent is the
clock's ("124.0 BPM (MIDI clock)"); stopped, or gone, the beats come from the music as
before. A clock that runs without ever sending Start or Stop (some mixers' clock outputs)
gives beats counted from its first tick, no bar's first beat marked.

`MidiClock.take` is called on rtmidi's callback thread with each real-time message and the
time it arrived; it only updates a few numbers under a lock. The tempo and each beat's time
come from a least-squares line through the last two beats' ticks, so a tick's jitter
(a USB MIDI interface's millisecond, the callback thread's wake-up) is averaged out.
`MidiClock.beats()` gives the frame worker its cursor (a beat grid, beat_grid.py).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from .beat_grid import BAR_BEATS, MAX_CATCH_UP_BEATS, GridBeat, GridReading, fit_beat_line

TICKS_PER_BEAT = 24  # MIDI clock: 24 Timing Clock ticks a quarter note
TICKS_PER_SONG_POSITION = 6  # Song Position Pointer counts sixteenth notes
TEMPO_TICKS = 2 * TICKS_PER_BEAT  # the line through the last two beats' ticks
MIN_TEMPO_TICKS = TICKS_PER_BEAT // 2  # half a beat heard before a tempo is given
LOST_AFTER_SECONDS = 0.5  # no tick for this long: the clock has gone (20 BPM ticks at 0.125 s)
KEPT_BEATS = 8  # beats kept for the worker's cursor to take
CLOCK_MESSAGES = frozenset({"clock", "start", "continue", "stop", "songpos"})


@dataclass(frozen=True)
class ClockState:
    """What the clock is doing, for the panel."""

    ticking: bool  # ticks arrive
    running: bool  # ticking and its transport plays (or it never sent Start or Stop)
    tempo_bpm: float | None  # while ticking, once half a beat has been heard
    source: str = ""  # the MIDI input it comes from, while ticking


class MidiClock:
    """The MIDI clock as the show's gear sends it, from one MIDI input at a time: the first
    whose clock ticks is followed until it has not ticked for LOST_AFTER_SECONDS (a
    keyboard that sends its own clock beside the DJ's mixer is not mixed in)."""

    name = "MIDI clock"

    def __init__(self, perf_counter: Callable[[], float] = time.perf_counter):
        self._now = perf_counter
        self._lock = threading.Lock()
        self._ticks: deque[float] = deque(maxlen=TEMPO_TICKS + 1)  # arrival times
        self._position = 0  # the next tick's count from the song's start
        self._running = False
        self._transport_seen = False  # Start, Stop or Continue ever came
        self._tempo_bpm: float | None = None
        self._beats: deque[tuple[int, GridBeat]] = deque(maxlen=KEPT_BEATS)  # (serial, beat)
        self._serial = 0  # the last beat's serial number
        self._source = ""  # the input followed

    def take(self, message, arrived: float, source: str = "") -> bool:
        """Take a MIDI message if it is the clock's (True), `arrived` its perf_counter time,
        `source` the input it came from (another input's, while one ticks, is dropped); any
        other message is left for the caller (False)."""
        kind = message.type
        if kind not in CLOCK_MESSAGES:
            return False
        with self._lock:
            if source != self._source:
                if self._ticking():
                    return True  # another input's clock is followed
                self._source = source
                self._ticks.clear()
            if kind == "clock":
                self._tick(arrived)
            elif kind == "songpos":
                self._position = message.pos * TICKS_PER_SONG_POSITION
            else:
                self._transport_seen = True
                self._running = kind != "stop"
                if kind == "start":
                    self._position = 0
        return True

    def _tick(self, arrived: float) -> None:
        if self._ticks and arrived - self._ticks[-1] > LOST_AFTER_SECONDS:
            self._ticks.clear()  # the clock stopped and came back: its old ticks say nothing
        self._ticks.append(arrived)
        fitted = self._fit()
        if fitted is None:
            self._tempo_bpm, tick_time = None, arrived
        else:
            seconds_per_tick, tick_time = fitted
            self._tempo_bpm = 60.0 / (TICKS_PER_BEAT * seconds_per_tick)
        if not self._playing():
            return
        if self._position % TICKS_PER_BEAT == 0:
            bar_start = self._position % (TICKS_PER_BEAT * BAR_BEATS) == 0
            self._serial += 1
            beat = GridBeat(time=tick_time, downbeat=self._transport_seen and bar_start)
            self._beats.append((self._serial, beat))
        self._position += 1

    def _fit(self) -> tuple[float, float] | None:
        """The least-squares line through the kept ticks' times: seconds a tick and the
        line's time for the newest tick; None before MIN_TEMPO_TICKS ticks."""
        if len(self._ticks) < MIN_TEMPO_TICKS:
            return None
        slope, newest = fit_beat_line(self._ticks)
        return None if slope <= 0.0 else (slope, newest)

    def _playing(self) -> bool:
        """Its transport plays, or it never sent Start, Stop or Continue (a free clock)."""
        return self._running or not self._transport_seen

    def _ticking(self) -> bool:
        return bool(self._ticks) and self._now() - self._ticks[-1] <= LOST_AFTER_SECONDS

    def state(self) -> ClockState:
        with self._lock:
            ticking = self._ticking()
            tempo = self._tempo_bpm if ticking else None
            source = self._source if ticking else ""
            return ClockState(ticking, ticking and self._playing(), tempo, source)

    def running_beats(self) -> tuple[float | None, int, list[tuple[int, GridBeat]]]:
        """The tempo (None unless a clock runs), the last beat's serial and the kept beats
        as (serial, beat), oldest first."""
        with self._lock:
            running = self._ticking() and self._playing()
            return (self._tempo_bpm if running else None), self._serial, list(self._beats)

    def beats(self) -> MidiClockBeats:
        return MidiClockBeats(self)


class MidiClockBeats:
    """The frame worker's cursor on the clock's beats."""

    def __init__(self, clock: MidiClock):
        self._clock = clock
        self._last_serial: int | None = None  # the serial of the last beat given

    def read(self, now: float) -> GridReading:
        """The clock's tempo and its beats after those given before, up to `now` (perf
        seconds): no tempo and no beats while no clock runs, no beats on the first call
        while one does (it only finds its place), and after a stall only the newest."""
        tempo, serial, kept = self._clock.running_beats()
        if tempo is None:
            self._last_serial = None
            return GridReading(None, [])
        if self._last_serial is None:
            due = [number for number, beat in kept if beat.time <= now]
            waiting = [number for number, beat in kept if beat.time > now]
            self._last_serial = due[-1] if due else (waiting[0] - 1 if waiting else serial)
            return GridReading(tempo, [])
        fresh = [(number, beat) for number, beat in kept if number > self._last_serial]
        fresh = [(number, beat) for number, beat in fresh if beat.time <= now]
        if not fresh:
            return GridReading(tempo, [])
        self._last_serial = fresh[-1][0]
        return GridReading(tempo, [beat for _, beat in fresh[-MAX_CATCH_UP_BEATS:]])
