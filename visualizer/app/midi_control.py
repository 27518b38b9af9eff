"""MIDI learn (mido + python-rtmidi, the `vj` extra): bind a knob, fader, pad or key to a
control, and the bindings persist in the app's QSettings.

`MidiBindings` is the logic, free of ports and threads: `learn(target)` arms it, the next
control change or note binds to that target, and afterwards `handle(message)` turns the
bound control's messages into a stage action (`Stage.perform`'s name and arguments). A
continuous target (reactivity, scene memory, feel, master, blackout fade) follows a
control's whole range; a button target (a category, blackout, next file...) fires when a
note is struck or a control crosses its midpoint upward, so a knob turned past the middle
fires once, not on every step.

Feedback (`MidiBindings.feedback`): each bound control is sent what the show does now, so
a controller's lights and motor faders follow it whoever changed it (a key, the panel, OSC,
the desk): a pad or button bound to a switch, auto, a held or biased category or a preset
lights (127) while that is on, runs or holds a look, else goes dark (0), as a note-on of
that velocity or a control change of that value, whichever it was learnt from; a knob or
fader learnt from a control change is sent the control's value over its range; the tap pad
flashes on each beat the picture takes. Next and picture are not sent. Only changes go out,
each port getting everything when it opens.

`MidiInput` opens every MIDI input port, and for feedback every output port of the same
name (a controller's other half; ALSA's "Midi Through", which would send it straight back,
never); rtmidi's callback thread only emits a queued Qt signal, so the bindings and the
window run on the GUI thread (only the clock's real-time messages are taken on that thread,
by `MidiClock`: the GUI thread would blur their timing). Where ALSA has no sequencer
(/dev/snd/seq missing, as in containers and CI), it says so in one line instead.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from functools import partial

from PyQt6.QtCore import QObject, QSettings, QTimer, pyqtSignal

from visualizer.feel import MAX_FEEL_STRENGTH
from visualizer.scene_memory import MAX_APP_SECONDS

from .midi_clock import MidiClock
from .osc_control import SWITCHES
from .output_level import MAX_FADE_SECONDS
from .presets import PRESET_SLOTS
from .scene_director import (
    AUTO,
    BIAS,
    HOLD,
    MAX_CROSSFADE_SECONDS,
    MAX_REACTIVITY,
    MIN_CROSSFADE_SECONDS,
)

EXTRA = "vj"
SETTINGS_KEY = "midi/bindings"
ALSA_SEQUENCER = "/dev/snd/seq"
RESCAN_MS = 2000  # how often the MIDI inputs are looked for, so one plugged in mid-show works
THROUGH_PORT = "midi through"  # ALSA's port that sends on whatever comes to it (lower case)
LIT, DARK = 127, 0

# target -> (stage action, range) ; a range makes it continuous, None a button
CONTINUOUS = {
    "reactivity": (0.0, MAX_REACTIVITY),
    "scene_memory": (0.0, MAX_APP_SECONDS),
    "crossfade": (MIN_CROSSFADE_SECONDS, MAX_CROSSFADE_SECONDS),
    "feel": (0.0, MAX_FEEL_STRENGTH),
    "master": (0.0, 1.0),
    "blackout_fade": (0.0, MAX_FADE_SECONDS),
}
# a button fires an action: auto, each switch (toggled, play / pause too), a tap, the next
# or previous file, a picture
BUTTONS = ("auto", *SWITCHES, "tap", "next", "previous", "picture")
CATEGORY_BUTTONS = 9  # "hold 1" ... "hold 9", "bias 1" ... "bias 9", like the keys


def targets() -> list[str]:
    """Every control MIDI can be bound to, in the order the panel lists them."""
    return [
        *CONTINUOUS,
        *BUTTONS,
        *(f"hold {number}" for number in range(1, CATEGORY_BUTTONS + 1)),
        *(f"bias {number}" for number in range(1, CATEGORY_BUTTONS + 1)),
        *(f"preset {number}" for number in range(1, PRESET_SLOTS + 1)),
    ]


class MidiUnavailable(RuntimeError):
    """No MIDI here: the extra is missing or there is no ALSA sequencer; says which."""


@dataclass(frozen=True)
class MidiControl:
    """One physical control: a controller number or a note, on a channel (0-15)."""

    kind: str  # "cc" or "note"
    channel: int
    number: int

    @classmethod
    def of(cls, message) -> MidiControl | None:
        if message.type == "control_change":
            return cls("cc", message.channel, message.control)
        if message.type in ("note_on", "note_off"):
            return cls("note", message.channel, message.note)
        return None

    @property
    def key(self) -> str:
        return f"{self.kind}/{self.channel}/{self.number}"

    @classmethod
    def from_key(cls, key: str) -> MidiControl:
        kind, channel, number = key.split("/")
        if kind not in ("cc", "note"):
            raise ValueError(f"not a MIDI control: {key}")
        return cls(kind, int(channel), int(number))

    def describe(self) -> str:
        what = "CC" if self.kind == "cc" else "note"
        return f"{what} {self.number} (channel {self.channel + 1})"


def _level(message) -> float:
    """0-1: a controller's value, a note's velocity (a note-off is 0)."""
    if message.type == "control_change":
        return message.value / 127.0
    return message.velocity / 127.0 if message.type == "note_on" else 0.0


class MidiBindings:
    def __init__(self, store: QSettings):
        self.store = store
        self.bindings: dict[MidiControl, str] = {}
        self.learning: str | None = None
        self._levels: dict[MidiControl, float] = {}
        known = set(targets())
        for entry in str(store.value(SETTINGS_KEY, "") or "").split(";"):
            key, _, target = entry.partition("=")
            try:
                control = MidiControl.from_key(key)
            except ValueError:
                continue  # a hand-edited or older entry: ignored
            if target in known:
                self.bindings[control] = target

    def learn(self, target: str) -> None:
        if target not in targets():
            raise ValueError(f"no control '{target}' to bind (one of {', '.join(targets())})")
        self.learning = target

    def control_of(self, target: str) -> MidiControl | None:
        return next((c for c, bound in self.bindings.items() if bound == target), None)

    def _bind(self, control: MidiControl, target: str) -> None:
        self.bindings = {c: t for c, t in self.bindings.items() if t != target}
        self.bindings[control] = target
        entries = ";".join(f"{c.key}={t}" for c, t in sorted(self.bindings.items(), key=str))
        self.store.setValue(SETTINGS_KEY, entries)
        self.store.sync()

    def handle(self, message) -> tuple[str, tuple] | None:
        """The stage action a message asks for (name, arguments), or None. While learning,
        the first control change or struck note is bound instead (and returns None)."""
        control = MidiControl.of(message)
        if control is None:
            return None
        level = _level(message)
        previous = self._levels.get(control, 0.0)
        self._levels[control] = level
        if self.learning is not None:
            if message.type == "note_off" or (message.type == "note_on" and level == 0.0):
                return None  # the release of the pad that was just learnt
            self._bind(control, self.learning)
            self.learning = None
            return None
        target = self.bindings.get(control)
        if target is None:
            return None
        if target in CONTINUOUS:
            low, high = CONTINUOUS[target]
            return target, (low + level * (high - low),)
        if not (level >= 0.5 > previous or (control.kind == "note" and level > 0.0)):
            return None  # a release, or a control already past its midpoint
        kind, _, number = target.partition(" ")
        return (kind, (int(number),)) if number else (kind, ())

    def feedback(
        self,
        values: dict[str, float],
        scene: tuple[str, int],
        presets: set[int],
        on_beat: bool = False,
    ) -> dict[MidiControl, int]:
        """What each bound control should show now (0-127): `values` the stage's controls
        (`Stage.control_values`), `scene` the mode and its category's number (1 = the
        first; 0 for auto), `presets` the numbers of the slots that hold a look, `on_beat`
        whether a beat's flash is on (the tap pad's light)."""
        mode, category = scene
        shown: dict[MidiControl, int] = {}
        for control, target in self.bindings.items():
            kind, _, number = target.partition(" ")
            if target in CONTINUOUS:
                if control.kind == "cc" and target in values:
                    low, high = CONTINUOUS[target]
                    share = (values[target] - low) / (high - low)
                    shown[control] = min(127, max(0, round(share * 127)))
            elif target in values:  # a switch
                shown[control] = LIT if values[target] >= 0.5 else DARK
            elif target == AUTO:
                shown[control] = LIT if mode == AUTO else DARK
            elif target == "tap":
                shown[control] = LIT if on_beat else DARK
            elif kind in (HOLD, BIAS):
                shown[control] = LIT if (mode, category) == (kind, int(number)) else DARK
            elif kind == "preset":
                shown[control] = LIT if int(number) in presets else DARK
        return shown


def feedback_outputs(input_names: list[str], output_names: list[str]) -> list[str]:
    """The output ports feedback goes to: those named as an input port (the same device's
    other half), never a through port, which would hand it straight back as input."""
    return [
        name
        for name in output_names
        if name in input_names and not name.lower().startswith(THROUGH_PORT)
    ]


def feedback_message(control: MidiControl, level: int):
    """The message that shows `level` (0-127) on `control`: a note-on of that velocity, or a
    control change of that value."""
    mido = _mido_module()
    if control.kind == "note":
        return mido.Message("note_on", channel=control.channel, note=control.number, velocity=level)
    return mido.Message(
        "control_change", channel=control.channel, control=control.number, value=level
    )


class FeedbackLedger:
    """What each feedback port was last sent, so only changes go out: a port that opens
    gets every level; a control moved by hand counts as showing where the hand put it."""

    def __init__(self):
        self._sent: dict[str, dict[MidiControl, int]] = {}

    def opened(self, port: str) -> None:
        self._sent[port] = {}

    def closed(self, port: str) -> None:
        self._sent.pop(port, None)

    def changes(self, port: str, levels: dict[MidiControl, int]) -> list[tuple[MidiControl, int]]:
        """The levels `port` has not been sent yet, from now on counted as sent."""
        sent = self._sent[port]
        new = [(control, level) for control, level in levels.items() if sent.get(control) != level]
        sent.update(new)
        return new

    def heard(self, control: MidiControl, level: int) -> None:
        for sent in self._sent.values():
            sent[control] = level


def _mido_module():
    try:
        import mido
    except ImportError as error:
        raise MidiUnavailable(
            f"MIDI needs the '{EXTRA}' extra (mido is missing): pip install '.[{EXTRA}]' "
            "or ./install.sh --vj"
        ) from error
    return mido


def _mido():
    mido = _mido_module()
    if sys.platform.startswith("linux") and not os.path.exists(ALSA_SEQUENCER):
        raise MidiUnavailable(
            f"MIDI is off: this machine has no ALSA sequencer ({ALSA_SEQUENCER} is missing; "
            "load the snd-seq kernel module, or run where the sound devices are visible)"
        )
    try:
        mido.set_backend("mido.backends.rtmidi", load=True)
    except ImportError as error:
        raise MidiUnavailable(
            f"MIDI needs python-rtmidi (the '{EXTRA}' extra): pip install '.[{EXTRA}]'"
        ) from error
    return mido


class MidiInput(QObject):
    """Every MIDI input port, opened, and every RESCAN_MS those plugged in since (closing
    those unplugged: `ports_changed(added, gone)`); `received(message, arrived)` fires on
    the owner's (GUI) thread for each message but the clock's, which go straight to `clock`
    (midi_clock.py) on rtmidi's thread; each is stamped with when it arrived (perf_counter
    seconds), so a pad's tap keeps its time."""

    received = pyqtSignal(object, float)
    ports_changed = pyqtSignal(list, list)  # the names plugged in, the names gone

    def __init__(self, clock: MidiClock | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self._mido = _mido()
        self.clock = MidiClock() if clock is None else clock
        self._ports: dict[str, object] = {}
        self._outputs: dict[str, object] = {}  # feedback's ports, by name
        self._ledger = FeedbackLedger()
        self._rescan_timer = QTimer(self)
        self._rescan_timer.setInterval(RESCAN_MS)
        self._rescan_timer.timeout.connect(self.rescan)
        try:
            for name in self._mido.get_input_names():
                self._ports[name] = self._open(name)
        except (OSError, SystemError, RuntimeError) as error:  # rtmidi's ALSA failures
            self.close()
            raise MidiUnavailable(f"MIDI inputs cannot be opened: {error}") from error
        self._open_outputs()
        self._rescan_timer.start()

    @property
    def names(self) -> list[str]:
        return list(self._ports)

    def rescan(self) -> None:
        """Open the ports plugged in since the last look and close those unplugged; a port
        that cannot be opened now is tried again at the next look."""
        try:
            present = self._mido.get_input_names()
        except (OSError, SystemError, RuntimeError):
            return
        gone = [name for name in self._ports if name not in present]
        for name in gone:
            self._ports.pop(name).close()
        added = []
        for name in present:
            if name in self._ports:
                continue
            try:
                self._ports[name] = self._open(name)
            except (OSError, SystemError, RuntimeError):
                continue
            added.append(name)
        self._open_outputs()
        if added or gone:
            self.ports_changed.emit(added, gone)

    @property
    def output_names(self) -> list[str]:
        return list(self._outputs)

    def _open_outputs(self) -> None:
        """Feedback's ports, as the inputs now are: those gone closed, new ones opened (one
        that cannot be opened now is tried again at the next look)."""
        try:
            present = feedback_outputs(list(self._ports), self._mido.get_output_names())
        except (OSError, SystemError, RuntimeError):
            return
        for name in [name for name in self._outputs if name not in present]:
            self._close_output(name)
        for name in present:
            if name not in self._outputs:
                try:
                    self._outputs[name] = self._mido.open_output(name)
                except (OSError, SystemError, RuntimeError):
                    continue
                self._ledger.opened(name)

    def _close_output(self, name: str) -> None:
        self._ledger.closed(name)
        self._outputs.pop(name).close()

    def show(self, levels: dict[MidiControl, int]) -> None:
        """Send each output port the levels it has not been sent (a port that fails is
        closed, and opened again at the next look if it is still there)."""
        for name, port in list(self._outputs.items()):
            try:
                for control, level in self._ledger.changes(name, levels):
                    port.send(feedback_message(control, level))
            except (OSError, SystemError, RuntimeError):
                self._close_output(name)

    def heard(self, control: MidiControl, level: int) -> None:
        """`control` was just moved to `level` by hand: it shows that already, so it is not
        sent back (a motor fader would fight the hand that moves it)."""
        self._ledger.heard(control, level)

    def _open(self, name: str):
        return self._mido.open_input(name, callback=partial(self._received, name))

    def _received(self, name: str, message) -> None:
        """On rtmidi's callback thread: a message from the port `name`."""
        arrived = time.perf_counter()
        if not self.clock.take(message, arrived, name):
            self.received.emit(message, arrived)

    def close(self) -> None:
        self._rescan_timer.stop()  # no port is opened again
        ports, self._ports = self._ports, {}
        for port in ports.values():
            port.close()
        for name in list(self._outputs):
            self._close_output(name)
