"""Tap tempo: the picture's beats on a tempo tapped by hand, for a show with no Ableton Link
and no MIDI clock, or music whose onsets mislead the count (rubato, a breakdown, a drone).

A tap is the Stage box's Tap button, the K key, OSC/HTTP `/musicscape/tap` or a MIDI pad,
stamped (time.perf_counter) as it comes: a MIDI pad's on rtmidi's thread as the message
arrives, the others on the GUI thread. Taps each within MAX_GAP_SECONDS of the one before
are one run. From its second tap a run sets the grid: the period is the least-squares
slope through the run's last MAX_TAPS taps, the beats fall on that line, and the run's
first tap is a bar's first beat (tap from the one). The grid keeps going when the taps
stop. A lone tap later moves the bar's first beat onto it and keeps the tempo (tap on the
one to put the picture back in step); a new run sets a new tempo. `forget()` (`/musicscape/tap
0`, Shift+K) drops the grid: the beats come from the music again. Taps closer than
MIN_GAP_SECONDS are one tap (a bouncing pad, a double click).

`TapTempo.beats()` gives the frame worker its cursor (a beat grid, beat_grid.py); taps and
the cursor meet under a lock, as a few numbers.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass

from .beat_grid import BAR_BEATS, MAX_CATCH_UP_BEATS, GridBeat, GridReading, fit_beat_line

MAX_GAP_SECONDS = 2.0  # a tap later than this after the one before starts a new run (30 BPM)
MIN_GAP_SECONDS = 0.15  # taps closer than this are one tap (400 BPM)
MAX_TAPS = 8  # the tempo is fitted to a run's last 8 taps: a slow drift is followed


@dataclass(frozen=True)
class TapGrid:
    """The tapped grid: beat i sounds at anchor + i * period (i = 0: a bar's first beat)."""

    anchor: float  # perf_counter seconds
    period: float  # seconds a beat
    version: int  # one more at each tap that moved the grid
    changed_at: float  # the tap that moved it last
    fresh_from: int  # the beat at that tap: the first the cursor gives after it

    @property
    def tempo_bpm(self) -> float:
        return 60.0 / self.period


@dataclass(frozen=True)
class TapState:
    """What the taps say, for the panel: the grid's tempo (None before a run's second tap)
    and how many taps the current run has."""

    tempo_bpm: float | None
    run_taps: int


class TapTempo:
    """Taps in, a beat grid out (beat_grid.BeatGrid)."""

    name = "tap tempo"

    def __init__(self):
        self._lock = threading.Lock()
        self._run: deque[float] = deque(maxlen=MAX_TAPS)  # the current run's last taps
        self._run_taps = 0  # taps in the current run, counted from its first
        self._grid: TapGrid | None = None
        self._version = 0

    def tap(self, at: float) -> None:
        """A tap at `at` (perf_counter seconds)."""
        with self._lock:
            run = self._run
            if run and at - run[-1] < MIN_GAP_SECONDS:
                return  # a bounce (or a tap stamped before the last: out of order)
            if not run or at - run[-1] > MAX_GAP_SECONDS:
                run.clear()
                self._run_taps = 0
            run.append(at)
            self._run_taps += 1
            if self._run_taps == 1:
                if self._grid is not None:  # a lone tap: the bar's first beat, same tempo
                    self._move(at, self._grid.period, at, 0)
                return
            period, last_time = fit_beat_line(run)
            index = self._run_taps - 1  # the newest tap's beat, from the run's first
            self._move(last_time - index * period, period, at, index)

    def _move(self, anchor: float, period: float, at: float, fresh_from: int) -> None:
        self._version += 1
        self._grid = TapGrid(anchor, period, self._version, at, fresh_from)

    def forget(self) -> None:
        """No grid and no run: the next tap starts afresh."""
        with self._lock:
            self._run.clear()
            self._run_taps = 0
            self._grid = None

    def grid(self) -> TapGrid | None:
        with self._lock:
            return self._grid

    def state(self) -> TapState:
        with self._lock:
            tempo = None if self._grid is None else self._grid.tempo_bpm
            return TapState(tempo, self._run_taps)

    def beats(self) -> TapBeats:
        return TapBeats(self)


class TapBeats:
    """The frame worker's cursor on the tapped grid."""

    def __init__(self, taps: TapTempo):
        self._taps = taps
        self._version: int | None = None  # the grid's version last read
        self._last_beat = 0  # the grid index of the last beat given

    def read(self, now: float) -> GridReading:
        """The grid's tempo and its beats after those given before, up to `now` (perf
        seconds): no tempo and no beats with no grid; after a tap that moved the grid,
        its beats from that tap's on (when the tap is less than a beat ago: else it only
        finds its place); after a stall only the newest."""
        grid = self._taps.grid()
        if grid is None:
            self._version = None
            return GridReading(None, [])
        newest = math.floor((now - grid.anchor) / grid.period)
        if grid.version != self._version:
            self._version = grid.version
            just_tapped = now - grid.changed_at < grid.period
            self._last_beat = grid.fresh_from - 1 if just_tapped else newest
        first = max(self._last_beat + 1, newest - MAX_CATCH_UP_BEATS + 1)
        beats = [
            GridBeat(time=grid.anchor + index * grid.period, downbeat=index % BAR_BEATS == 0)
            for index in range(first, newest + 1)
        ]
        self._last_beat = max(self._last_beat, newest)
        return GridReading(grid.tempo_bpm, beats)
