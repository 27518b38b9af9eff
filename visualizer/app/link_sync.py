"""Ableton Link: the picture's beats on the show's beat grid (LinkPython-extern, the `link`
extra).

A DJ or a band's software (Ableton Live, Traktor, Rekordbox, Bitwig, Mixxx, djay, other VJ
tools) shares a tempo and a beat grid with every Link peer on the local network. With Link
on and at least one peer there, the picture's beat pulses and the scene changes that wait
for a beat come on that grid: on time, at the session's tempo, a bar's first beat stronger,
instead of where the music's onsets are heard; the tempo shown and sent is the session's.
With no peer the beats come from the music as before. musicscape only follows: it never
sets the session's tempo or starts and stops it.

`LinkSession` (the GUI thread's) joins the session and says how many peers there are and
their tempo; `LinkBeats` (the frame worker's, made by `LinkSession.beats()` and handed over
by a command) reads the session's tempo and gives each beat once, as its time on
`time.perf_counter`'s clock, from one capture of the session a frame. Link keeps its own
clock (on Linux CLOCK_MONOTONIC_RAW, which NTP does not slew); the two are compared on each
read, so a beat's time is right to a few microseconds on either clock.

Ableton Link is Ableton's, under the GPL (version 2 or later) or Ableton's own licence;
LinkPython-extern (Unlicense) builds it into its module, so a build that ships with it is
under the GPL: see the README.
"""

from __future__ import annotations

import math
import time

from .beat_grid import BAR_BEATS, MAX_CATCH_UP_BEATS, GridBeat, GridReading

EXTRA = "link"
START_TEMPO_BPM = 120.0  # a session this peer founds, with no other peer around, starts at it
CLOCK_READINGS = 3  # Link's clock is read this often against perf_counter, the quickest kept


class LinkUnavailable(RuntimeError):
    """LinkPython-extern is not installed; the message says how to install it."""


def _link_module():
    try:
        import link
    except ImportError as error:
        raise LinkUnavailable(
            f"Ableton Link needs the '{EXTRA}' extra (LinkPython-extern is missing): "
            f"pip install '.[{EXTRA}]' or ./install.sh --link"
        ) from error
    return link


class LinkSession:
    """This app as a Link peer, joined from construction until `close`; a beat grid
    (beat_grid.py) while it has peers."""

    name = "Ableton Link"

    def __init__(self):
        self._link = _link_module().Link(START_TEMPO_BPM)
        self._link.enabled = True

    @property
    def peers(self) -> int:
        return int(self._link.numPeers())

    @property
    def tempo_bpm(self) -> float | None:
        """The session's tempo, None with no peer (this peer's own would mean nothing)."""
        if not self.peers:
            return None
        return float(self._link.captureSessionState().tempo())

    def beats(self) -> LinkBeats:
        return LinkBeats(self._link)

    def close(self) -> None:
        self._link.enabled = False


class LinkBeats:
    """The frame worker's cursor on the session's beats."""

    def __init__(self, link_peer):
        self._link = link_peer
        self._clock = link_peer.clock()
        self._last_beat: int | None = None  # the grid index of the last beat given

    def _perf_minus_link(self) -> float:
        """time.perf_counter() minus Link's clock, in seconds, now: of CLOCK_READINGS
        readings, the one taken in the least time (a reading the thread was preempted in
        would put the beats off by as long as it lasted)."""
        best_span, offset = math.inf, 0.0
        for _ in range(CLOCK_READINGS):
            before = time.perf_counter()
            link_seconds = self._clock.micros() / 1e6
            after = time.perf_counter()
            if after - before < best_span:
                best_span, offset = after - before, (before + after) / 2.0 - link_seconds
        return offset

    def read(self, now: float) -> GridReading:
        """The session's tempo and the beats of its grid after those given before, up to
        `now` (perf seconds), from one capture of the session: no tempo and no beats with no
        peer, no beats on the first call (it only finds its place), and after a stall only
        the newest."""
        if not self._link.numPeers():
            self._last_beat = None
            return GridReading(None, [])
        state = self._link.captureSessionState()
        tempo = float(state.tempo())
        offset = self._perf_minus_link()
        beat_now = state.beatAtTime(round((now - offset) * 1e6), BAR_BEATS)
        newest = math.floor(beat_now)
        if self._last_beat is None or newest < self._last_beat:  # joined, or the grid moved
            self._last_beat = newest
            return GridReading(tempo, [])
        first = max(self._last_beat + 1, newest - MAX_CATCH_UP_BEATS + 1)
        self._last_beat = newest
        beats = [
            GridBeat(
                time=state.timeAtBeat(index, BAR_BEATS) / 1e6 + offset,
                downbeat=index % BAR_BEATS == 0,
            )
            for index in range(first, newest + 1)
        ]
        return GridReading(tempo, beats)
