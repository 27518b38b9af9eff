"""A beat grid from the show: what the frame worker asks of Ableton Link's session
(link_sync.py), a MIDI clock (midi_clock.py) or taps by hand (tap_tempo.py) alike.

A grid gives the frame worker a cursor (`beats()`); once a frame the worker reads it up to
the picture's audio time (`read(now)`, time.perf_counter seconds) and gets the grid's tempo
(None while the grid has nothing to follow: no Link peer, no clock running, no taps) and each beat
since the last read once, on the perf_counter clock, a bar's first beat marked. While a
grid gives a tempo its beats move the picture instead of the music's onsets; the panel
names the grid after the tempo ("127.5 BPM (Ableton Link)").
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

BAR_BEATS = 4  # a bar: beat 0 of every 4 is the bar's first, as Link and MIDI clock count
DOWNBEAT_STRENGTH = 1.0  # a beat's pulse, as a strength the scene director takes (0-1)
BEAT_STRENGTH = 0.7
MAX_CATCH_UP_BEATS = 1  # after a stall (a seek, a slow frame), only the newest beat is given


@dataclass(frozen=True)
class GridBeat:
    time: float  # when it sounds on the grid, time.perf_counter seconds
    downbeat: bool  # the first beat of a bar

    @property
    def strength(self) -> float:
        return DOWNBEAT_STRENGTH if self.downbeat else BEAT_STRENGTH


@dataclass(frozen=True)
class GridReading:
    tempo_bpm: float | None  # the grid's tempo; None while it has nothing to follow
    beats: list[GridBeat]  # the grid's beats since the last reading, oldest first


class BeatCursor(Protocol):
    def read(self, now: float) -> GridReading: ...


class BeatGrid(Protocol):
    name: str  # how the panel names it after the tempo: "Ableton Link", "MIDI clock"

    def beats(self) -> BeatCursor: ...


def fit_beat_line(times: Iterable[float]) -> tuple[float, float]:
    """The least-squares line through evenly spaced events' times (a clock's ticks, taps;
    two or more) against their count: the seconds from one to the next, and the line's
    time for the newest (its jitter averaged out)."""
    stamps = np.fromiter(times, dtype=np.float64)
    index = np.arange(len(stamps), dtype=np.float64)
    index -= index.mean()
    slope = float(index @ (stamps - stamps.mean()) / (index @ index))
    return slope, float(stamps.mean() + slope * index[-1])


def steady_beats(first: float, period: float, after: float, until: float) -> list[GridBeat]:
    """The beats of a steady grid (beat 0, a bar's first, at `first`; one every `period`
    seconds, before `first` too) that sound after `after` and by `until`, oldest first."""
    low = math.floor((after - first) / period) + 1
    high = math.floor((until - first) / period)
    return [
        GridBeat(time=first + index * period, downbeat=index % BAR_BEATS == 0)
        for index in range(low, high + 1)
    ]
