"""The Stage box's DMX rows: stage lights that match the scene (DMX out, dmx_output.py) and
a lighting desk that drives the show (DMX in, dmx_input.py), each over Art-Net or sACN.

`StageLights` owns their sockets, timers, buttons and labels. The lights are made from the
picture the stage shows (master and blackout included); what the desk asks goes through
the stage's `perform`, as every remote's does. Everything here runs on the GUI thread.
"""

from __future__ import annotations

import time

from PyQt6.QtCore import QObject, QTimer
from PyQt6.QtWidgets import QFormLayout, QPushButton

from visualizer.frontend.bands import BAND_NAMES

from .dmx_input import DESK_READ_MS, SOURCE_LOST_SECONDS, DeskChannels, DeskPatch, DmxInput
from .dmx_output import (
    ARTNET,
    LIGHT_CHANNELS,
    DmxError,
    DmxOutput,
    DmxTarget,
    band_share,
    light_channels,
)
from .osc_control import REMOTE_FAULT
from .wrapped_label import WrappedLabel

LIGHTS_PERIOD_MS = 25  # DMX out's 40 packets a second, about as fast as DMX refreshes


class StageLights(QObject):
    """DMX out and DMX in, as the Stage box's rows in `form`, for `stage`."""

    def __init__(self, stage, form: QFormLayout):
        super().__init__(stage)
        self.stage = stage
        self.window = stage.window
        self.dmx: DmxOutput | None = None
        self.dmx_button = QPushButton("DMX out")
        self.dmx_button.setCheckable(True)
        self.dmx_button.setToolTip(
            "Stage lights that match the scene: the picture's colours, its beat, its scene and "
            f"the music's low, mid and high bands as {LIGHT_CHANNELS} DMX channels over "
            "Art-Net or sACN, to where --artnet or --sacn said"
        )
        self.dmx_button.clicked.connect(lambda: self.stage.perform("dmx"))
        self.dmx_label = WrappedLabel("off")
        form.addRow(self.dmx_button, self.dmx_label)
        self.dmx_in: DmxInput | None = None
        self.desk_channels = DeskChannels()
        self.dmx_in_button = QPushButton("DMX in")
        self.dmx_in_button.setCheckable(True)
        self.dmx_in_button.setToolTip(
            "A lighting desk drives the show: 8 DMX channels (master, scene, reactivity, feel, "
            "cross-fade, blackout, preset, tap) over Art-Net or sACN, where --dmx-in said"
        )
        self.dmx_in_button.clicked.connect(lambda: self.stage.perform("dmx_in"))
        self.dmx_in_label = WrappedLabel("off")
        form.addRow(self.dmx_in_button, self.dmx_in_label)
        self._desk_timer = QTimer(self)
        self._desk_timer.setInterval(DESK_READ_MS)
        self._desk_timer.timeout.connect(self._read_desk)
        self._lights_timer = QTimer(self)
        self._lights_timer.setInterval(LIGHTS_PERIOD_MS)
        self._lights_timer.timeout.connect(self._send_lights)

    def restore(self) -> None:
        """Turn on what was on when the app last closed."""
        settings = self.window.settings
        if settings.dmx_enabled:
            self.set_dmx(True)
        if settings.dmx_in_enabled:
            self.set_dmx_in(True)

    def state(self) -> dict:
        """What the HTTP state gives of them (None: off)."""
        return {
            "dmx": None if self.dmx is None else self.dmx.target.state(),
            "dmx_in": None if self.dmx_in is None else self.dmx_in.patch.describe(),
        }

    def set_dmx(self, on: bool, target: DmxTarget | None = None) -> bool:
        """Send the lights' channels (dmx_output.py) 40 times a second to `target`, else
        to the one given last (remembered), or stop."""
        settings = self.window.settings
        if self.dmx is not None:
            self._lights_timer.stop()
            self.dmx.close()
            self.dmx = None
        if on:
            target = settings.dmx_target if target is None else target
            if target is None:
                self.dmx_button.setChecked(False)
                self.dmx_label.setText(
                    "no address yet: start with --artnet HOST or --sacn (a DMX node, a "
                    "lighting desk or a broadcast address)"
                )
                return False
            try:
                self.dmx = DmxOutput(target, settings.sacn_source_id)
            except DmxError as error:
                self.dmx_button.setChecked(False)
                self.dmx_label.setText(str(error))
                self.window.set_fault(REMOTE_FAULT, str(error))
                return False
            settings.dmx_target = target
            self._lights_timer.start()
        settings.dmx_enabled = on
        self.dmx_button.setChecked(on)
        self._show_dmx()
        self._join()
        return True

    def set_dmx_in(self, on: bool, patch: DeskPatch | None = None) -> bool:
        """Let the desk's channels (dmx_input.py) on `patch`, else the one given last
        (remembered), drive the show, or stop listening."""
        settings = self.window.settings
        if self.dmx_in is not None:
            self._desk_timer.stop()
            self.dmx_in.close()
            self.dmx_in = None
        if on:
            patch = settings.dmx_in_patch if patch is None else patch
            if patch is None:
                self.dmx_in_button.setChecked(False)
                self.dmx_in_label.setText(
                    "no universe yet: start with --dmx-in artnet or --dmx-in sacn (with "
                    "--dmx-in-universe and --dmx-in-channel)"
                )
                return False
            try:
                self.dmx_in = DmxInput(patch, settings.sacn_source_id)
            except DmxError as error:
                self.dmx_in_button.setChecked(False)
                self.dmx_in_label.setText(str(error))
                self.window.set_fault(REMOTE_FAULT, str(error))
                return False
            self.desk_channels = DeskChannels()  # the first packet sets every channel
            settings.dmx_in_patch = patch
            self._desk_timer.start()
        settings.dmx_in_enabled = on
        self.dmx_in_button.setChecked(on)
        self._show_dmx_in()
        self._join()
        return True

    def _join(self) -> None:
        """With Art-Net both in and out, port 6454's datagrams may come to DMX out's socket
        (a desk sending to this machine's address): it hands them to DMX in."""
        if self.dmx is None:
            return
        both = self.dmx_in is not None and ARTNET == self.dmx.target.protocol
        both = both and self.dmx_in.patch.protocol == ARTNET
        self.dmx.received = self.dmx_in.take if both else None

    def _read_desk(self) -> None:
        heard = (self.dmx_in.heard, self.dmx_in.sources, self.dmx_in.senders)
        levels = self.dmx_in.read()
        if (self.dmx_in.heard, self.dmx_in.sources, self.dmx_in.senders) != heard:
            self._show_dmx_in()
        if levels is None:
            return
        for action, args in self.desk_channels.actions(levels):
            refusal = self.stage.attempt(action, args)
            if refusal is not None:
                self.window.set_fault(REMOTE_FAULT, f"DMX in {action}: {refusal}")

    def _show_dmx_in(self) -> None:
        if self.dmx_in is None:
            self.dmx_in_label.setText("off")
            return
        dmx_in = self.dmx_in
        text = dmx_in.patch.describe()
        if not dmx_in.heard:
            text = f"{text}: nothing heard yet"
        elif not dmx_in.sources:
            text = f"{text}: nothing heard for {SOURCE_LOST_SECONDS:g} s (the levels hold)"
        else:
            text = f"{text} from {' and '.join(dmx_in.senders)}"
            if dmx_in.sources > 1:
                text = f"{text} ({dmx_in.sources} sources merged)"
        if self.dmx_in.multicast_problem is not None:
            text = f"{text}; {self.dmx_in.multicast_problem}"
        self.dmx_in_label.setText(text)

    def _send_lights(self) -> None:
        packet, window = self.stage.latest_packet, self.window
        if self.dmx is None:
            return
        gain = self.stage.level.gain(time.perf_counter())
        pulse = 0.0 if packet is None else packet.envelope * gain  # the live beat
        if packet is None:
            bands = [0.0] * len(BAND_NAMES)
        else:
            bands = [band_share(level_db) * gain for level_db in packet.band_levels_db]
        held = self.stage.shown_packet  # the scene that goes out (held while frozen)
        shown = None if held is None or window.runtime is None else held.shown_category
        status = self.dmx.status
        self.dmx.send(light_channels(window.canvas.shown_pixels(), pulse, shown, bands))
        if self.dmx.status != status:
            self._show_dmx()

    def _show_dmx(self) -> None:
        if self.dmx is None:
            self.dmx_label.setText("off")
            return
        text = self.dmx.target.describe()
        if self.dmx.status is not None:
            text = f"{text}; not sent: {self.dmx.status}"
        if self.dmx.poll_problem is not None:
            text = f"{text}; {self.dmx.poll_problem}"
        self.dmx_label.setText(text)

    def close(self) -> None:
        """Stops both; the settings stay as they were (on again at the next start)."""
        self._lights_timer.stop()
        if self.dmx is not None:
            self.dmx.close()
            self.dmx = None
        self._desk_timer.stop()
        if self.dmx_in is not None:
            self.dmx_in.close()
            self.dmx_in = None
