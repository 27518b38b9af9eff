"""The Stage box's beat-grid rows: Ableton Link (link_sync.py), the MIDI clock
(midi_clock.py) and tap tempo (tap_tempo.py), each a beat grid as beat_grid.py defines it,
one followed at a time: turning one on turns the others off.

`StageBeats` owns the Link session, the MIDI clock's reading of the inputs, the taps, their
buttons, labels and label timer; what it follows goes to the frame worker as a
`SetBeatGrid` message, and the buttons act through the stage's `perform`, as every
remote's do. Everything here runs on the GUI thread.
"""

from __future__ import annotations

from PyQt6.QtCore import QObject, QTimer
from PyQt6.QtWidgets import QFormLayout, QHBoxLayout, QPushButton

from .frame_worker import SetBeatGrid
from .link_sync import LinkSession, LinkUnavailable
from .midi_clock import MidiClock
from .tap_tempo import TapTempo
from .wrapped_label import WrappedLabel

GRID_LABEL_MS = 500  # how often the Link and MIDI clock rows say what they follow


class StageBeats(QObject):
    """Link, the MIDI clock and taps, as the Stage box's rows in `form`, for `stage`."""

    def __init__(self, stage, form: QFormLayout):
        super().__init__(stage)
        self.stage = stage
        self.window = stage.window
        self.midi_clock = MidiClock()  # what the MIDI inputs' clock says, followed or not
        self.link_session: LinkSession | None = None
        self.link_button = QPushButton("Ableton Link")
        self.link_button.setCheckable(True)
        self.link_button.setToolTip(
            "Beats and tempo from the Link session of the show's software (DJ or DAW) on this "
            "network, while it has peers; musicscape only follows its tempo"
        )
        self.link_button.clicked.connect(lambda: self.stage.perform("link"))
        self.link_label = WrappedLabel("off")
        form.addRow(self.link_button, self.link_label)
        self.following_midi_clock = False
        self.midi_clock_button = QPushButton("MIDI clock")
        self.midi_clock_button.setCheckable(True)
        self.midi_clock_button.setToolTip(
            "Beats and tempo from the MIDI clock of the show's gear (a DJ mixer or player, a "
            "drum machine, a DAW) on any MIDI input, while it runs"
        )
        self.midi_clock_button.clicked.connect(lambda: self.stage.perform("midi_clock"))
        self.midi_clock_label = WrappedLabel("off")
        form.addRow(self.midi_clock_button, self.midi_clock_label)
        self.tap_tempo = TapTempo()
        self.following_taps = False
        self.tap_button = QPushButton("Tap (K)")
        self.tap_button.setToolTip(
            "Tap the beat, from a bar's first: from the second tap the picture's beats and "
            "tempo follow the taps; one tap later puts the bar's first beat there"
        )
        self.tap_button.pressed.connect(lambda: self.stage.perform("tap"))  # on the press: in time
        self.forget_taps_button = QPushButton("Forget")
        self.forget_taps_button.setToolTip("Forget the taps (Shift+K): beats from the music")
        self.forget_taps_button.clicked.connect(lambda: self.stage.perform("tap", (0,)))
        self.tap_label = WrappedLabel("")
        tap_row = QHBoxLayout()
        tap_row.addWidget(self.tap_label, 1)
        tap_row.addWidget(self.forget_taps_button)
        form.addRow(self.tap_button, tap_row)
        self._show_taps()
        self._grid_timer = QTimer(self)
        self._grid_timer.setInterval(GRID_LABEL_MS)
        self._grid_timer.timeout.connect(self._show_grids)

    def restore(self) -> None:
        """Follow what was followed when the app last closed."""
        if self.window.settings.link_enabled:
            self.set_link(True)
        elif self.window.settings.midi_clock_enabled:
            self.set_midi_clock(True)

    def state(self) -> dict:
        """What the HTTP state gives of them."""
        return {
            "link": {
                "on": self.link_session is not None,
                "peers": 0 if self.link_session is None else self.link_session.peers,
            },
            "midi_clock": {
                "on": self.following_midi_clock,
                "running": self.midi_clock.state().running,
            },
            "tap": {"on": self.following_taps, "tempo_bpm": self.tap_tempo.state().tempo_bpm},
        }

    def set_link(self, on: bool) -> bool:
        """Join the Ableton Link session on this network (remembered), or leave it; the
        worker takes its beats from the session's grid while it has peers."""
        if on and self.link_session is None:
            try:
                self.link_session = LinkSession()
            except LinkUnavailable as error:
                self.link_button.setChecked(False)
                self.link_label.setText(str(error))
                return False
        elif not on and self.link_session is not None:
            self.window.link.send(SetBeatGrid(None))
            self.link_session.close()
            self.link_session = None
        if on:
            self.set_midi_clock(False)
            self.forget_taps()
        self.window.settings.link_enabled = on
        self.link_button.setChecked(on)
        if on:
            self.window.link.send(SetBeatGrid(self.link_session))
        self._show_grids()
        return True

    def set_midi_clock(self, on: bool) -> None:
        """Follow the MIDI inputs' clock (remembered), or stop following it: the worker
        takes its beats from the clock while it runs."""
        if on:
            self.set_link(False)
            self.forget_taps()
        if on != self.following_midi_clock:
            self.window.link.send(SetBeatGrid(self.midi_clock if on else None))
        self.following_midi_clock = on
        self.window.settings.midi_clock_enabled = on
        self.midi_clock_button.setChecked(on)
        self._show_grids()

    def _show_grids(self) -> None:
        if self.link_session is not None or self.following_midi_clock:
            self._grid_timer.start()
        else:
            self._grid_timer.stop()
        self._show_link()
        self._show_midi_clock()

    def _show_link(self) -> None:
        session = self.link_session
        peers = 0 if session is None else session.peers
        tempo = None if session is None else session.tempo_bpm  # None: the last peer left
        if session is None:
            text = "off"
        elif peers == 0 or tempo is None:
            text = "no peers yet: beats from the music"
        else:
            counted = "1 peer" if peers == 1 else f"{peers} peers"
            text = f"{counted} at {tempo:.1f} BPM: beats on the session's grid"
        if self.link_label.text() != text:
            self.link_label.setText(text)

    def _show_midi_clock(self) -> None:
        clock = self.midi_clock.state()
        if not self.following_midi_clock:
            text = "off"
        elif self.stage.midi is None and self.stage.midi_status:  # MIDI could not be opened
            text = "no MIDI inputs (MIDI above says why): beats from the music"
        elif clock.running and clock.tempo_bpm is not None:
            source = f" from {clock.source}" if clock.source else ""
            text = f"{clock.tempo_bpm:.1f} BPM{source}: beats on the clock"
        elif clock.ticking:
            source = f" ({clock.source})" if clock.source else ""
            text = f"stopped{source}: beats from the music"
        else:
            text = "no clock: beats from the music"
        if self.midi_clock_label.text() != text:
            self.midi_clock_label.setText(text)

    def tap(self, at: float) -> None:
        """A tap of the beat at `at` (tap_tempo.py): from a run's second tap the worker's
        beats follow the taps (Link and the MIDI clock go off: one grid at a time)."""
        self.tap_tempo.tap(at)
        if not self.following_taps and self.tap_tempo.state().tempo_bpm is not None:
            self.set_link(False)
            self.set_midi_clock(False)
            self.window.link.send(SetBeatGrid(self.tap_tempo))
            self.following_taps = True
        self._show_taps()

    def forget_taps(self) -> None:
        """Forget the taps: the beats come from the music (or the grid turned on next)."""
        if self.following_taps:
            self.window.link.send(SetBeatGrid(None))
            self.following_taps = False
        self.tap_tempo.forget()
        self._show_taps()

    def _show_taps(self) -> None:
        taps = self.tap_tempo.state()
        if taps.tempo_bpm is not None:
            counted = f" from {taps.run_taps} taps" if taps.run_taps > 1 else ""
            text = f"{taps.tempo_bpm:.1f} BPM{counted}: beats on the taps"
        elif taps.run_taps == 1:
            text = "1 tap: tap again on the next beat"
        else:
            text = "off: tap the beat from a bar's first"
        self.tap_label.setText(text)
        self.forget_taps_button.setEnabled(taps.run_taps > 0 or taps.tempo_bpm is not None)

    def close(self) -> None:
        """Stop the label timer and leave the Link session (the setting stays as it was)."""
        self._grid_timer.stop()
        if self.link_session is not None:
            self.link_session.close()
            self.link_session = None
