"""The window's stage side: remote control in (OSC, MIDI, HTTP; a lighting desk's DMX through
`stage_lights.py`), beat grids (Ableton Link, MIDI clock, taps: `stage_beats.py`) and
picture and figures out (OSC with each control's value as feedback, HTTP, recording, saved
pictures, NDI; DMX lights through `stage_lights.py`), for a VJ wiring musicscape into a
show.

Everything here runs on the GUI thread. A remote action goes through the same window
method the keyboard calls (`Stage.perform`), so OSC, HTTP, MIDI, DMX and keys cannot
disagree, and an action that cannot be done now says why in the same words to each; the
network and MIDI threads only emit queued Qt signals. Each frame the window shows passes
through `Stage.frame`, which returns what the canvas paints (dimmed by the master fader and
the blackout, `output_level.py`) and hands the same picture to the recorder and the NDI
sender, and beats to OSC; P saves the picture the canvas holds as a PNG.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import numpy as np
from PyQt6.QtCore import QObject, Qt, QTimer
from PyQt6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QPushButton,
    QSlider,
)

from visualizer.output_files import unused_path
from visualizer.resize import centre_crop, crop_size
from visualizer.video_file import VIDEO_CODECS, VideoFileError

from .address_code import AddressCodeDialog
from .audio_sources import CaptureSource, FilePlayback
from .corner_pin import CORNER_NAMES, MAX_NUDGE, CornerPin
from .frame_worker import FramePacket
from .http_remote import LIVE, PICTURE, STATE, HttpRemote, HttpUnavailable, RemoteRequest
from .midi_control import (
    CONTINUOUS,
    MidiBindings,
    MidiControl,
    MidiInput,
    MidiUnavailable,
    targets,
)
from .ndi_output import NdiOutput, NdiUnavailable
from .osc_control import (
    INPUT_ADDRESSES,
    PREFIX,
    REMOTE_FAULT,
    OscListener,
    OscSender,
    OscUnavailable,
)
from .osc_query import Announcement, OscQueryServer, OscQueryUnavailable
from .output_level import MAX_FADE_SECONDS, OutputLevel, dim
from .picture_saver import PICTURE_SIZE, PictureSaver
from .presets import slot_number
from .recorder import Recorder, RecordingProgress, RecordingSummary
from .remote_arguments import (
    category_value,
    corner_nudge_value,
    corner_value,
    number_value,
    path_value,
    pinning_value,
    switch_value,
    tap_value,
)
from .remote_page import REMOTE_PAGE, SCREEN_PAGE
from .scene_director import AUTO, BIAS, HOLD
from .stage_beats import StageBeats
from .stage_lights import StageLights
from .wrapped_label import WrappedLabel

OSC_STATE_PERIOD_MS = 25  # 40 Hz: probabilities, scene, onset envelope, colour, mood, level
TRACK_RESEND_SECONDS = 1.0  # the track goes out when it changes and this often
OSC_QUERY_PUBLISH_MS = 100  # how fresh the values OSCQuery answers and streams are
CONTROLS_RESEND_SECONDS = 1.0  # every control's value goes out when it changes and this often
COLOUR_STRIDE = 4  # the picture's mean colour is read from every 4th pixel of every 4th row
AUDIO_PULL_MS = 40  # how often the recorder's audio is copied from the ring
FINISH_POLL_MS = 50  # how often a stopped recording is looked at until its file is closed
MIDI_FEEDBACK_MS = 50  # how often the show's state goes to the MIDI controllers' lights
BEAT_FLASH_SECONDS = 0.1  # how long a bound tap pad is lit from each beat
RECORD_SIZE = 720  # pixels, the recording's shorter side (square like the scene, or as
# wide as the canvas shows it when it fills a wide screen)
MASTER_STEPS = 100  # master slider units per 1.0
RECORD_FAULT = "recording"  # the fault line of a recording that stopped by itself, or
# whose disk is nearly full
LOW_ROOM_MINUTES = 5.0  # a recording whose disk holds less than this more says so


def default_record_dir() -> Path:
    videos = Path.home() / "Videos"
    return videos if videos.is_dir() else Path.cwd()


def local_addresses() -> set[str]:
    """This machine's IPv4 addresses other than loopback: where a phone finds the remote."""
    import socket

    import psutil

    return {
        address.address
        for addresses in psutil.net_if_addrs().values()
        for address in addresses
        if address.family == socket.AF_INET and not address.address.startswith("127.")
    }


def mean_colour(picture: np.ndarray) -> tuple[float, float, float]:
    """The mean red, green and blue (0-1) of a uint8 RGB picture, read from a grid of every
    COLOUR_STRIDE-th pixel (the grid's mean is the picture's to within its texture)."""
    grid = picture[::COLOUR_STRIDE, ::COLOUR_STRIDE].reshape(-1, 3)
    red, green, blue = grid.mean(axis=0, dtype=np.float64) / 255.0
    return float(red), float(green), float(blue)


class Stage(QObject):
    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.level = OutputLevel(window.settings.blackout_fade_seconds)
        self.osc_in: OscListener | None = None
        self.osc_query: OscQueryServer | None = None
        self.osc_announcement: Announcement | None = None
        self._osc_query_problem = ""
        self._query_timer = QTimer(self)
        self._query_timer.setInterval(OSC_QUERY_PUBLISH_MS)
        self._query_timer.timeout.connect(self._publish_osc_query)
        self.osc_out: OscSender | None = None
        self._latest: FramePacket | None = None
        self.frozen: FramePacket | None = None  # the packet whose picture holds still
        self._black: np.ndarray | None = None
        self.beats_sent = 0
        self._beat_at = float("-inf")  # perf_counter of the last beat (the tap pad's flash)
        self.midi_status = ""
        self.record_dir = default_record_dir()
        self.recorder: Recorder | None = None
        self.low_room_minutes = LOW_ROOM_MINUTES
        self._progress_shown: RecordingProgress | None = None
        self.last_recording: RecordingSummary | None = None
        self._recording_paths: set[Path] = set()  # handed out this run (see start_recording)
        self._ring = None
        self._ring_position = 0
        self._ring_scratch: np.ndarray | None = None
        self._audio_timer = QTimer(self)
        self._audio_timer.setInterval(AUDIO_PULL_MS)
        self._audio_timer.timeout.connect(self._tend_recording)
        self._finishing: list[Recorder] = []  # stopped, their files not yet closed
        self._finish_timer = QTimer(self)
        self._finish_timer.setInterval(FINISH_POLL_MS)
        self._finish_timer.timeout.connect(self._take_finished)
        self._midi_feedback_timer = QTimer(self)
        self._midi_feedback_timer.setInterval(MIDI_FEEDBACK_MS)
        self._midi_feedback_timer.timeout.connect(self._send_midi_feedback)
        self._track_sent: dict | None = None  # the track last sent over OSC, and when
        self._track_sent_at = 0.0
        self._controls_sent: dict[str, float] = {}  # the controls' values last sent over OSC
        self._controls_sent_at = 0.0
        self._state_timer = QTimer(self)
        self._state_timer.setInterval(OSC_STATE_PERIOD_MS)
        self._state_timer.timeout.connect(self._send_state)
        self.box = QGroupBox("Stage")
        form = QFormLayout(self.box)
        self.osc_label = WrappedLabel("off (--osc-in PORT, --osc-out HOST:PORT)")
        form.addRow("OSC", self.osc_label)
        self.http = None
        self.http_label = WrappedLabel("off (--http PORT)")
        self.http_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.address_code_button = QPushButton("Web: QR code")
        self.address_code_button.setToolTip(
            "The remote's addresses as QR codes, for a phone's camera (with --http)"
        )
        self.address_code_button.setEnabled(False)
        self.address_code_button.clicked.connect(self.show_address_code)
        self.address_code: AddressCodeDialog | None = None
        form.addRow(self.address_code_button, self.http_label)
        self.record_button = QPushButton("Record (R)")
        self.record_button.setCheckable(True)
        self.record_button.clicked.connect(lambda: self.perform("record"))
        self.record_label = WrappedLabel("")
        form.addRow(self.record_button, self.record_label)
        self.record_codec_box = QComboBox()
        for name, codec in VIDEO_CODECS.items():
            self.record_codec_box.addItem(f"{codec.described} ({codec.suffixes[0]})", name)
        self.record_codec_box.setToolTip(
            "What the next recording is written as: H.264 is small; Apple ProRes 422 has "
            "every frame a key frame, for VJ software to scrub and loop (about 15 times the size)"
        )
        self.record_codec_box.setCurrentIndex(
            self.record_codec_box.findData(window.settings.record_codec)
        )
        self.record_codec_box.currentIndexChanged.connect(
            lambda index: self.set_record_codec(self.record_codec_box.itemData(index))
        )
        form.addRow("Record as", self.record_codec_box)
        self.picture_saver = PictureSaver(self)
        self.picture_saver.saved.connect(self._show_saved_picture)
        self.picture_button = QPushButton("Picture (P)")
        self.picture_button.setToolTip("Save the picture the canvas shows as a PNG")
        self.picture_button.clicked.connect(lambda: self.perform("picture"))
        self.picture_label = WrappedLabel("")
        form.addRow(self.picture_button, self.picture_label)
        self.freeze_button = QPushButton("Freeze (Z)")
        self.freeze_button.setCheckable(True)
        self.freeze_button.setToolTip(
            "Hold the picture still (what goes out too) while the music goes on being heard"
        )
        self.freeze_button.clicked.connect(lambda: self.perform("freeze"))
        form.addRow(self.freeze_button)
        self.midi_bindings = MidiBindings(window.settings.store)
        self.midi: MidiInput | None = None
        self.midi_target = QComboBox()
        self.midi_target.addItems(targets())
        self.midi_target.currentTextChanged.connect(self._show_binding)
        self.learn_button = QPushButton("Learn")
        self.learn_button.setToolTip("Then move a knob or strike a pad: it drives this control")
        self.learn_button.clicked.connect(lambda: self.learn_midi(self.midi_target.currentText()))
        learn_row = QHBoxLayout()
        learn_row.addWidget(self.midi_target, 1)
        learn_row.addWidget(self.learn_button)
        form.addRow("MIDI", learn_row)
        self.midi_label = WrappedLabel("")
        form.addRow("", self.midi_label)  # a row spanning both columns is not given the
        # height its wrapped lines need
        self.ndi: NdiOutput | None = None
        self._ndi_shape: tuple[int, int] | None = None  # (height, width) the NDI row names
        self.ndi_button = QPushButton("NDI out (Shift+N)")
        self.ndi_button.setCheckable(True)
        self.ndi_button.clicked.connect(lambda: self.perform("ndi"))
        self.ndi_label = WrappedLabel("off")
        form.addRow(self.ndi_button, self.ndi_label)
        self.beats = StageBeats(self, form)
        self.lights = StageLights(self, form)
        self.master_slider = QSlider(Qt.Orientation.Horizontal)
        self.master_slider.setRange(0, MASTER_STEPS)
        self.master_slider.setValue(MASTER_STEPS)
        self.master_slider.setToolTip(
            "How bright the picture goes out: the canvas, recording, NDI and saved pictures"
        )
        self.master_slider.valueChanged.connect(lambda value: self.set_master(value / MASTER_STEPS))
        form.addRow("Master", self.master_slider)
        self.fade_box = QDoubleSpinBox()
        self.fade_box.setRange(0.0, MAX_FADE_SECONDS)
        self.fade_box.setDecimals(1)
        self.fade_box.setSingleStep(0.5)
        self.fade_box.setSuffix(" s")
        self.fade_box.setToolTip(
            "How long the blackout (B) takes to fade to black and back (0: a cut)"
        )
        self.fade_box.setValue(self.level.fade_seconds)
        self.fade_box.valueChanged.connect(self.set_fade_seconds)
        form.addRow("Blackout fade", self.fade_box)
        layout = window.panel.layout()
        layout.insertWidget(layout.count() - 2, self.box)  # above the hint and the stretch
        self.beats.restore()
        self.lights.restore()

    # ----- remote control -----
    def perform(self, action: str, args: tuple = (), at: float | None = None) -> str | None:
        """Do `action` (an INPUT_ADDRESSES name) with OSC-style arguments through the
        window's own methods; `at`: when it came (perf_counter seconds; None: now), a tap's
        time. Returns None when done, or why it cannot be done now (no DMX address yet, an
        extra missing, no picture yet, no file list: the row's own text); ValueError (in
        words) for arguments it cannot take."""
        window = self.window
        categories = window.runtime.metadata.categories if window.runtime else ()
        if action == "auto":
            window.set_auto_mode()
        elif action in (HOLD, BIAS):
            window.set_scene(action, category_value(args, categories))
        elif action in CONTINUOUS:  # the ranges MIDI's knobs span
            value = number_value(args, *CONTINUOUS[action])
            {
                "reactivity": window.set_reactivity,
                "feel": window.set_feel_strength,
                "scene_memory": window.set_scene_memory,
                "crossfade": window.set_crossfade,
                "master": self.set_master,
                "blackout_fade": self.set_fade_seconds,
            }[action](value)
        elif action == "on_beat":
            window.set_on_beat(switch_value(args, window.settings.scene_on_beat))
        elif action == "on_bar":
            window.set_on_bar(switch_value(args, window.settings.scene_on_bar))
        elif action == "blackout":
            self.level.set_blackout(switch_value(args, self.blackout), time.perf_counter())
        elif action == "freeze":
            if not self.set_freeze(switch_value(args, self.frozen is not None)):
                return "no picture yet to hold"
        elif action == "fullscreen":
            if switch_value(args, window.isFullScreen()):
                window.showFullScreen()
            else:
                window.showNormal()
        elif action == "titles":
            window.set_title_cards(switch_value(args, window.settings.title_cards))
        elif action == "test_card":
            window.set_test_card(switch_value(args, window.canvas.test_card))
        elif action == "mirror":
            window.set_mirrored(switch_value(args, window.canvas.orientation.mirrored))
        elif action == "fill":
            window.set_fill(switch_value(args, window.canvas.fill))
        elif action == "corner":
            placed = corner_value(args, len(CORNER_NAMES))
            pin = CornerPin() if placed is None else window.canvas.corner_pin.moved(*placed)
            window.set_corner_pin(pin)
        elif action == "pinning":
            picked = pinning_value(args, len(CORNER_NAMES))
            window.set_pinning(picked is not None)
            if picked is not None:
                window.pick_corner(picked)
        elif action == "nudge_corner":
            moved = corner_nudge_value(args, len(CORNER_NAMES), MAX_NUDGE)
            window.set_corner_pin(window.canvas.corner_pin.nudged(*moved))
        elif action == "remember_scenes":
            window.controls.set_remember_track_scenes(
                switch_value(args, window.settings.remember_track_scenes)
            )
        elif action == "link":
            beats = self.beats
            if not beats.set_link(switch_value(args, beats.link_session is not None)):
                return beats.link_label.text()
        elif action == "midi_clock":
            self.beats.set_midi_clock(switch_value(args, self.beats.following_midi_clock))
        elif action == "tap":
            if tap_value(args):
                self.beats.tap(time.perf_counter() if at is None else at)
            else:
                self.beats.forget_taps()
        elif action == "dmx":
            lights = self.lights
            if not lights.set_dmx(switch_value(args, lights.dmx is not None)):
                return lights.dmx_label.text()
        elif action == "dmx_in":
            lights = self.lights
            if not lights.set_dmx_in(switch_value(args, lights.dmx_in is not None)):
                return lights.dmx_in_label.text()
        elif action in ("next", "previous"):
            if not window.sources.plays_file_list:
                return f"no file list plays: {action} is for files (--file, Open file…, a drop)"
            if action == "previous":
                window.previous_file()
            elif not window.next_file():
                return "that was the list's last file: the list has ended"
        elif action in ("play", "seek"):
            return self._transport(action, args)
        elif action == "loop":
            window.sources.set_list_loop(switch_value(args, window.sources.list_loop))
        elif action == "shuffle":
            window.sources.set_list_shuffle(switch_value(args, window.sources.list_shuffle))
        elif action == "file":
            return self._play_path(path_value(args))
        elif action == "ndi":
            if not self.set_ndi(switch_value(args, self.ndi is not None)):
                return self.ndi_label.text()
        elif action == "record":
            if not switch_value(args, self.recorder is not None):
                self._end_recording()  # saved when its thread has closed the file
            elif not self.start_recording():
                return self.record_label.text()
        elif action == "picture":
            if self.save_picture() is None:
                return self.picture_label.text()
        elif action == "preset":
            window.controls.recall_preset(slot_number(args))
        elif action == "store_preset":
            window.controls.store_preset(slot_number(args))
        else:
            raise ValueError(f"unknown action '{action}' (one of {', '.join(INPUT_ADDRESSES)})")
        return None

    def _transport(self, action: str, args: tuple) -> str | None:
        """Play / pause and seek the file that plays; why not, when no file plays."""
        sources = self.window.sources
        source = sources.source
        if not isinstance(source, FilePlayback):
            return f"no file plays: {action} is for files (--file, Open file…, a drop)"
        if action == "play":
            sources.set_playing(switch_value(args, sources.file_plays))
        else:
            sources.seek(number_value(args, 0.0, source.duration_seconds))
        return None

    def _play_path(self, path: Path) -> str | None:
        """Play the file, folder or playlist at `path` as --file does. Where it cannot
        play and the source playing goes on, the refusal is the remote's to show (the
        panel's source line stays as it was); where the source stopped, both say so."""
        window = self.window
        playing, said_before = window.source, window.faults.get("source")
        if window.sources.play_paths([str(path)]):
            return None
        refusal = window.faults.get("source")
        if window.source is playing:
            window.set_fault("source", said_before)
        return refusal

    def attempt(self, action: str, args: tuple = (), at: float | None = None) -> str | None:
        """`perform` for a remote that can only be told: why the action was not done
        (arguments it cannot take, in words, as well as what cannot be done now), else
        None."""
        try:
            return self.perform(action, args, at)
        except ValueError as error:
            return str(error)

    def _perform_osc(self, action: str, args: tuple) -> None:
        refusal = self.attempt(action, args)
        message = None if refusal is None else f"OSC {PREFIX}{action}: {refusal}"
        self.window.set_fault(REMOTE_FAULT, message)

    # ----- MIDI -----
    def open_midi(self) -> bool:
        """Listen to every MIDI input port; the panel says which, or why there are none."""
        try:
            self.midi = MidiInput(self.beats.midi_clock, self)
        except MidiUnavailable as error:
            self.midi_status = str(error)
            self._show_binding()
            return False
        self.midi.received.connect(self.on_midi_message)
        self.midi.ports_changed.connect(self._midi_ports_changed)
        self._show_midi_ports()
        self._midi_feedback_timer.start()
        return True

    def midi_feedback(self) -> dict[MidiControl, int]:
        """What each bound MIDI control should show now (`MidiBindings.feedback`)."""
        window = self.window
        mode = window.worker.settings.scene_mode
        scene = (mode.kind, 0 if mode.kind == AUTO else mode.category + 1)
        presets = set(window.controls.stored_presets())
        on_beat = time.perf_counter() - self._beat_at < BEAT_FLASH_SECONDS
        return self.midi_bindings.feedback(self.control_values(), scene, presets, on_beat)

    def _send_midi_feedback(self) -> None:
        if self.midi is not None and self.midi_bindings.bindings:
            self.midi.show(self.midi_feedback())

    def _midi_ports_changed(self, added: list[str], gone: list[str]) -> None:
        for name in added:
            self.window.log(f"MIDI input connected: {name}")
        for name in gone:
            self.window.log(f"MIDI input gone: {name}")
        self._show_midi_ports()

    def _show_midi_ports(self) -> None:
        names = ", ".join(self.midi.names) or "none connected (plug one in: it is found)"
        self.midi_status = f"MIDI inputs: {names}"
        if self.midi_bindings.learning is None:  # else it says what it waits for
            self._show_binding()

    def learn_midi(self, target: str) -> None:
        self.midi_bindings.learn(target)
        self.midi_target.setCurrentText(target)
        self.learn_button.setEnabled(False)
        waiting = f"Move a control or strike a pad for {target}…"
        self.midi_label.setText(waiting if self.midi else f"{waiting}\n{self.midi_status}")

    def on_midi_message(self, message, arrived: float) -> None:
        """A MIDI message and when it arrived (perf_counter seconds), on the GUI thread
        (MidiInput's queued signal)."""
        learning = self.midi_bindings.learning
        action = self.midi_bindings.handle(message)
        moved = action is not None and action[0] in CONTINUOUS and message.type == "control_change"
        if moved and self.midi is not None:  # a knob or fader: its own move is not sent back
            self.midi.heard(MidiControl.of(message), message.value)
        if learning is not None and self.midi_bindings.learning is None:
            self.learn_button.setEnabled(True)
            self._show_binding()
        if action is not None:
            refusal = self.attempt(*action, at=arrived)
            if refusal is not None:
                self.window.set_fault(REMOTE_FAULT, f"MIDI {action[0]}: {refusal}")

    def _show_binding(self) -> None:
        target = self.midi_target.currentText()
        control = self.midi_bindings.control_of(target)
        bound = f"{target} ← {control.describe()}" if control else f"{target}: not bound"
        self.midi_label.setText(f"{bound}\n{self.midi_status}")

    def toggle_blackout(self) -> None:
        self.perform("blackout")

    def set_freeze(self, on: bool) -> bool:
        """Hold the picture shown now (Z): the canvas, recording, NDI, saved pictures and the
        lights' colours keep it while the worker goes on hearing the music (beats, tempo
        and the category bars stay live, and the master and blackout still act); off, the
        live picture again, at once. False when there is no picture yet to hold."""
        if on and self.frozen is None:
            if self._latest is None:
                return False
            self.frozen = self._latest
        elif not on:
            self.frozen = None
        self.freeze_button.setChecked(self.frozen is not None)
        return True

    # ----- output level -----
    @property
    def latest_packet(self) -> FramePacket | None:
        """The worker's newest packet shown (before the output level): the music as heard."""
        return self._latest

    @property
    def shown_packet(self) -> FramePacket | None:
        """The packet whose picture goes out: the held one while frozen, else the newest."""
        return self.frozen or self._latest

    @property
    def blackout(self) -> bool:
        """Whether the blackout is on (the picture may still be fading to black)."""
        return self.level.blackout

    def set_master(self, value: float) -> None:
        """The master fader, 0-1: every picture that goes out is that bright (at once)."""
        self.level.master = value
        blocked = self.master_slider.blockSignals(True)  # the slider shows, never rounds, it
        self.master_slider.setValue(round(value * MASTER_STEPS))
        self.master_slider.blockSignals(blocked)

    def set_fade_seconds(self, seconds: float) -> None:
        """How long the blackout takes to fade to black and back (kept in the settings)."""
        self.level.set_fade_seconds(seconds, time.perf_counter())
        self.window.settings.blackout_fade_seconds = seconds
        blocked = self.fade_box.blockSignals(True)
        self.fade_box.setValue(seconds)
        self.fade_box.blockSignals(blocked)

    def toggle_recording(self) -> None:
        self.perform("record")

    def toggle_ndi(self) -> None:
        self.perform("ndi")

    # ----- NDI -----
    def set_ndi(self, on: bool) -> bool:
        """Send the frames the canvas shows as the NDI source 'musicscape', or stop."""
        if not on:
            if self.ndi is not None:
                self.ndi.close()
                self.ndi = None
            self.ndi_button.setChecked(False)
            self.ndi_label.setText("off")
            return True
        if self.ndi is None:
            try:
                self.ndi = NdiOutput(self.window.worker_settings.fps)
            except NdiUnavailable as error:
                self.ndi_button.setChecked(False)
                self.ndi_label.setText(str(error))
                return False
        self.ndi_button.setChecked(True)
        self.ndi_label.setText(f"sending as '{self.ndi.name}' from the next frame")
        return True

    # ----- saved pictures -----
    def save_picture(self) -> Path | None:
        """Save the picture the canvas shows (master and blackout included; the middle of it
        where the canvas fills a wide screen) as a PNG in record_dir, enlarged to
        PICTURE_SIZE (the shorter side) from the generator's own picture, off the GUI thread
        (P, the button, OSC); the panel says where, or why not."""
        packet, runtime = self.shown_packet, self.window.runtime
        if packet is None or self.window.canvas.current_pixels() is None:
            self.picture_label.setText("No picture yet: nothing has been shown")
            return None
        gain = self.level.gain(time.perf_counter())
        aspect = self.window.canvas.shown_aspect()
        if packet.picture is None or runtime is None:
            shown = np.ascontiguousarray(self.window.canvas.shown_pixels())
            path = self.picture_saver.save(shown, self.record_dir)
            height, width = shown.shape[:2]
        else:
            path = self.picture_saver.save_enlarged(
                packet.picture, runtime.model_dir, gain, self.record_dir, aspect
            )
            width, height = crop_size(aspect, PICTURE_SIZE)
        self.picture_label.setText(f"saving {path.name} ({width}×{height})")
        return path

    def _show_saved_picture(self, path: str, error: str) -> None:
        if error:
            self.picture_label.setText(f"Cannot save the picture: {error}")
            self.window.log(f"cannot save the picture {path}: {error}")
        else:
            self.picture_label.setText(f"Saved {Path(path).name}")
            self.window.log(f"picture saved: {path}")

    # ----- recording -----
    def start_recording(self, aspect: float | None = None) -> bool:
        """Record what the canvas shows, with the audio, to record_dir (R, the button, OSC),
        in the shape it shows the picture (or `aspect`, a width by a height: the bench)."""
        if self.recorder is not None:
            return True
        window = self.window
        ring = window.sound_ring
        # The writer creates its file when the first frame comes, so the names handed out are
        # kept: a second recording started within the same second gets "-2", never the first's.
        stem = f"musicscape-{datetime.now():%Y%m%d-%H%M%S}"
        codec = window.settings.record_codec
        suffix = VIDEO_CODECS[codec].suffixes[0]
        path = unused_path(self.record_dir, stem, suffix, self._recording_paths)
        shape = window.canvas.shown_aspect() if aspect is None else aspect
        width, height = crop_size(shape, RECORD_SIZE)
        try:
            self.recorder = Recorder(
                path, width, height, window.worker_settings.fps, time.perf_counter(), codec=codec
            )
        except (VideoFileError, ValueError) as error:
            self.record_label.setText(f"Cannot record: {error}")
            self.window.log(f"cannot record: {error}")
            self.record_button.setChecked(False)
            return False
        self._recording_paths.add(path)
        self.window.set_fault(RECORD_FAULT, None)
        self._ring, self._ring_position = ring, ring.written
        self._ring_scratch = ring.new_buffer()
        self._audio_timer.start()
        self.record_button.setChecked(True)
        self.record_codec_box.setEnabled(False)
        self.record_label.setText(f"recording to {path}")
        self.window.log(f"recording to {path} ({width} x {height})")
        return True

    def set_record_codec(self, codec: str) -> None:
        """What the next recording is written as (a `VIDEO_CODECS` name), remembered; one
        that runs goes on as it began (the box is disabled meanwhile)."""
        if codec not in VIDEO_CODECS:
            raise ValueError(f"the codec must be one of {', '.join(VIDEO_CODECS)}, got {codec!r}")
        self.window.settings.record_codec = codec
        self.record_codec_box.setCurrentIndex(self.record_codec_box.findData(codec))

    def stop_recording(self) -> RecordingSummary | None:
        """Stop the recording that runs and wait for its file to be closed, and for any
        still finishing (the app's close, the bench); its summary (None: none ran)."""
        recorder = self._end_recording()
        self._take_finished(wait=True)
        return None if recorder is None else recorder.summary()

    def _end_recording(self) -> Recorder | None:
        """Let go of the recording that runs (None: none did): its last sound handed over,
        then it finishes on its own thread, and `_take_finished` says when it is saved (a
        backlog of frames to encode, or the file's close, never holds the picture up)."""
        recorder, self.recorder = self.recorder, None
        self.record_button.setChecked(False)
        self.record_codec_box.setEnabled(True)
        if recorder is None:
            return None
        self.window.set_fault(RECORD_FAULT, None)  # a low disk's line is the recording's
        self._pull_audio(recorder)
        self._audio_timer.stop()
        recorder.finish()
        self._finishing.append(recorder)
        self._finish_timer.start()
        self.record_label.setText(f"finishing {recorder.path.name}…")
        return recorder

    def _take_finished(self, wait: bool = False) -> None:
        """The recordings finished since the last look (or, with `wait`, all of them, once
        finished): each summary in the show's log (one the disk cut short already has its
        fault line there), and the newest in the Record row unless another records now."""
        for recorder in list(self._finishing):
            if wait:
                recorder.stop()
            if not recorder.finished:
                continue
            self._finishing.remove(recorder)
            summary = recorder.summary()
            self.last_recording = summary
            if self.recorder is None:
                self.record_label.setText(summary.describe())
            if summary.error is None:
                self.window.log(f"{summary.describe()} ({summary.path})")
        if not self._finishing:
            self._finish_timer.stop()

    def _tend_recording(self) -> None:
        """Every AUDIO_PULL_MS while recording: a recording whose writer failed (the disk
        filled, the folder went) is stopped at once and said in the fault lines, so the
        show knows it is no longer recorded (the fault line is its one entry in the show's
        log, which named the file as it started); else the new sound is handed over."""
        if self.recorder is not None and self.recorder.error is not None:
            summary = self._end_recording().stop()  # it only drains: no wait to speak of
            self._take_finished()
            self.window.set_fault(RECORD_FAULT, summary.describe())
            return
        self._pull_audio()
        self._show_progress()

    def _recording_progress(self) -> str | None:
        """The Record row's progress of the recording that runs ("1:05, 74 MB; room for
        about 41 min more"); None when none runs or its encoder has not looked yet."""
        progress = None if self.recorder is None else self.recorder.progress
        return None if progress is None else progress.describe()

    def _show_progress(self) -> None:
        """The Record row says how long the recording is, its size and how much more the
        disk holds at its rate; under `low_room_minutes`, the fault lines say so too (until
        it stops, or the room grows again)."""
        recorder = self.recorder
        progress = None if recorder is None else recorder.progress
        if progress is None or progress is self._progress_shown:
            return
        self._progress_shown = progress
        self.record_label.setText(f"recording to {recorder.path}: {progress.describe()}")
        room = progress.room_minutes
        low = room is not None and room < self.low_room_minutes
        self.window.set_fault(
            RECORD_FAULT,
            f"Recording {recorder.path.name}: the disk has room for less than "
            f"{self.low_room_minutes:g} min more ({recorder.path.parent})"
            if low
            else None,
        )

    def _pull_audio(self, recorder: Recorder | None = None) -> None:
        """Hand the audio written since the last pull to the recorder (GUI thread, a copy)."""
        recorder = recorder or self.recorder
        ring = self.window.sound_ring
        if recorder is None:
            return
        if ring is not self._ring:  # another source: the last of the one before, then its own
            self._hand_on_audio(recorder)
            # A file's sound ring is its own, from its first sample heard (a list's next file
            # sounds before the window moves on to it); an input's is the models', from now.
            fresh = isinstance(self.window.source, FilePlayback)
            self._ring, self._ring_position = ring, 0 if fresh else ring.written
            self._ring_scratch = ring.new_buffer()
        self._hand_on_audio(recorder)

    def _hand_on_audio(self, recorder: Recorder) -> None:
        ring = self._ring
        start, count, last_time = ring.copy_since(self._ring_position, self._ring_scratch)
        if count:
            self._ring_position = start + count
            recorder.add_audio(self._ring_scratch[:count].copy(), ring.sample_rate, last_time)

    def listen_osc(self, port: int) -> bool:
        """--osc-in PORT (0: any free port; `osc_in.port` says which), with its address space
        served by OSCQuery on the TCP port of the same number and announced on the network
        (osc_query.py); a TCP port in use is said in the OSC row, and OSC goes on."""
        try:
            self.osc_in = OscListener(port, parent=self)
        except OscUnavailable as error:
            self.window.set_fault(REMOTE_FAULT, str(error))
            return False
        self.osc_in.received.connect(self._perform_osc)
        self.osc_in.rejected.connect(lambda text: self.window.set_fault(REMOTE_FAULT, text))
        try:
            self.osc_query = OscQueryServer(
                self.osc_in.port, self.osc_in.port, deliver=self.osc_in.take
            )
        except OscQueryUnavailable as error:
            self._osc_query_problem = str(error)
        else:
            self.osc_announcement = Announcement(
                self.osc_query.port, self.osc_in.port, local_addresses()
            )
            self._publish_osc_query()
            self._query_timer.start()
        self._show_osc()
        return True

    def _publish_osc_query(self) -> None:
        """The controls' values to OSCQuery, and the announcement's news to the OSC row."""
        categories = self.window.runtime.metadata.categories if self.window.runtime else ()
        self.osc_query.publish(tuple(categories), self.control_values())
        self._show_osc()

    def send_osc(self, host: str, port: int) -> bool:
        """--osc-out HOST:PORT (given again, another destination beside it): figures at 40
        Hz and every beat as it is seen."""
        try:
            if self.osc_out is None:
                self.osc_out = OscSender()
            self.osc_out.add(host, port)
        except OscUnavailable as error:
            self.window.set_fault(REMOTE_FAULT, str(error))
            return False
        self._state_timer.start()
        self._show_osc()
        return True

    def _show_osc(self) -> None:
        parts = []
        if self.osc_in is not None:
            parts.append(f"in: UDP port {self.osc_in.port}")
        if self.osc_query is not None:
            status = self.osc_announcement.status
            parts.append(f"OSCQuery on TCP port {self.osc_query.port}, {status}")
        elif self._osc_query_problem:
            parts.append(f"no OSCQuery: {self._osc_query_problem}")
        if self.osc_out is not None:
            parts.append(f"out: {self.osc_out.describe()}")
        text = "; ".join(parts)
        if self.osc_label.text() != text:
            self.osc_label.setText(text)

    # ----- what goes out -----
    def beat(self, audio_time: float) -> None:
        """A beat the worker just found (its signal, queued to the GUI thread), sent over
        OSC before the frame it moves is made."""
        if self.osc_out is not None:
            self.osc_out.send("beat", ("d", audio_time))
            self.beats_sent += 1
        self._beat_at = time.perf_counter()
        self._send_midi_feedback()  # the tap pad's flash starts on the beat, not the next look

    def frame(self, packet: FramePacket) -> np.ndarray:
        """The picture to show for `packet` (dimmed by the master fader and the blackout:
        black once a blackout has faded out), also handed to the recorder, the NDI sender
        and the HTTP remote's live viewers (its middle where the canvas fills a wide screen,
        as NDI's)."""
        self._latest = packet
        if self.frozen is not None and len(self.frozen.probabilities) != len(packet.probabilities):
            self.set_freeze(False)  # other models, other categories: the held picture goes
        image = self.shown_packet.image
        gain = self.level.gain(time.perf_counter())
        if gain <= 0.0:
            if self._black is None or self._black.shape != image.shape:
                self._black = np.zeros_like(image)
            image = self._black
        else:
            image = dim(image, gain)
        if self.recorder is not None:
            self.recorder.add_frame(image, time.perf_counter())
        watched = self.http is not None and self.http.live.viewers
        if self.ndi is not None or watched:
            # its middle where the canvas fills a wide screen, as the canvas shows it
            shown = centre_crop(image, self.window.canvas.shown_aspect())
            if self.ndi is not None:
                self._send_ndi(shown)
            if watched:
                self.http.live.post(shown)
        return image

    def _send_ndi(self, image: np.ndarray) -> None:
        """The frame as the canvas shows it (`frame` cuts it), at the scene's own
        resolution; the NDI row names the size as it changes."""
        ndi = self.ndi
        first = ndi.full_name is None or image.shape[:2] != self._ndi_shape
        try:
            sent = ndi.send(image)
        except NdiUnavailable as error:
            self.set_ndi(False)
            self.ndi_label.setText(str(error))
            return
        if not sent:
            self.ndi_label.setText(
                f"the NDI runtime has not made the sender yet; asking again with each frame "
                f"({ndi.refused_for:.0f} of {ndi.retry_seconds:.0f} s)"
            )
        elif first:
            height, width, _ = image.shape
            self._ndi_shape = (height, width)
            self.ndi_label.setText(f"sending '{ndi.full_name}', {width}×{height}")

    def state(self) -> dict:
        """What goes out now: the scene and the music's figures of the newest frame (none
        before the first), the switches and the controls' values."""
        window = self.window
        settings = window.settings
        state = {
            "categories": list(window.runtime.metadata.categories) if window.runtime else [],
            "blackout": self.blackout,
            "freeze": self.frozen is not None,
            "master": self.level.master,
            "recording": self.recorder is not None,
            "recording_progress": self._recording_progress(),
            "reactivity": settings.reactivity,
            "feel": window.worker_settings.feel_strength,
            "crossfade": settings.crossfade_seconds,
            "titles": settings.title_cards,
            "test_card": window.canvas.test_card,
            "mirror": window.canvas.orientation.mirrored,
            "fill": window.canvas.fill,
            "corners": [list(corner) for corner in window.canvas.corner_pin.corners],
            "pinning": None if window.canvas.pinning is None else window.canvas.pinning + 1,
            "frames_per_second": window.stats.fps(time.perf_counter()),
            "remember_scenes": settings.remember_track_scenes,
            "play": window.sources.file_plays,
            "loop": window.sources.list_loop,
            "shuffle": window.sources.list_shuffle,
            "live_viewers": self.http.live.viewers if self.http is not None else 0,
            **self.beats.state(),
            **self.lights.state(),
        }
        source, heard = window.source, window.now_playing.track
        if isinstance(source, FilePlayback):
            playing = (source.path.name, source.tags, "")
            state["position_seconds"] = source.position_seconds
            state["length_seconds"] = source.duration_seconds
        elif isinstance(source, CaptureSource) and heard is not None:
            playing = ("", heard.tags, heard.player)  # what a desktop player plays into it
        else:
            playing = None
        if playing is not None:
            file_name, tags, player = playing
            state["track"] = {
                "file": file_name,
                "title": tags.title,
                "artist": tags.artist,
                "album": tags.album,
                "player": player,
                "scene_remembered": window.controls.remembered_scene_runs,
            }
        packet = self._latest
        if packet is None or window.runtime is None:
            return state
        pixels = window.canvas.shown_pixels()
        state.update(
            probabilities=[float(value) for value in packet.probabilities],
            scene=state["categories"][self.shown_packet.shown_category],
            mode=packet.scene_mode.kind,
            onset=float(packet.envelope),
            colour=list(mean_colour(pixels)) if pixels is not None else None,
            arousal=float(packet.arousal),
            valence=float(packet.valence),
            tempo_bpm=None if packet.tempo_bpm is None else float(packet.tempo_bpm),
            level_db=float(packet.input_meter_db),
            bands_db=[float(level) for level in packet.band_levels_db],
        )
        return state

    def control_values(self) -> dict[str, float]:
        """Each remote control that holds a value, by its INPUT_ADDRESSES name: a switch's
        0 / 1, a continuous control's number (OSC out sends them back as feedback). Not
        `tap`: its 1 is a tap, which a surface that echoes what it is sent would repeat."""
        window, settings, lights = self.window, self.window.settings, self.lights
        values = {
            "reactivity": settings.reactivity,
            "feel": window.worker_settings.feel_strength,
            "crossfade": settings.crossfade_seconds,
            "master": self.level.master,
            "blackout_fade": self.level.fade_seconds,
        }
        memory = settings.scene_memory_seconds
        if memory is None and window.runtime is not None:
            memory = window.runtime.metadata.scene_memory_seconds
        if memory is not None:
            values["scene_memory"] = memory
        switches = {
            "on_beat": settings.scene_on_beat,
            "on_bar": settings.scene_on_bar,
            "blackout": self.blackout,
            "freeze": self.frozen is not None,
            "fullscreen": window.isFullScreen(),
            "titles": settings.title_cards,
            "test_card": window.canvas.test_card,
            "mirror": window.canvas.orientation.mirrored,
            "fill": window.canvas.fill,
            "remember_scenes": settings.remember_track_scenes,
            "link": self.beats.link_session is not None,
            "midi_clock": self.beats.following_midi_clock,
            "dmx": lights.dmx is not None,
            "dmx_in": lights.dmx_in is not None,
            "record": self.recorder is not None,
            "ndi": self.ndi is not None,
            "play": window.sources.file_plays,
            "loop": window.sources.list_loop,
            "shuffle": window.sources.list_shuffle,
        }
        return {name: float(value) for name, value in (values | switches).items()}

    def _send_controls(self, out: OscSender, now: float) -> None:
        """Feedback for control surfaces: each control's value on its own address when it
        changes, from wherever (a key, the panel, MIDI, the desk), and all every second (a
        surface that connects late is brought up to date)."""
        controls = self.control_values()
        everything = now - self._controls_sent_at >= CONTROLS_RESEND_SECONDS
        for name, value in controls.items():
            if everything or self._controls_sent.get(name) != value:
                out.send(name, ("f", value))
        self._controls_sent = controls
        if everything:
            self._controls_sent_at = now

    def _send_state(self) -> None:
        out = self.osc_out
        if out is None:
            return
        state = self.state()
        track = state.get("track")
        now = time.perf_counter()
        self._send_controls(out, now)
        if track is not None and (
            track != self._track_sent or now - self._track_sent_at >= TRACK_RESEND_SECONDS
        ):
            out.send("track", *(("s", track[key]) for key in ("title", "artist", "album", "file")))
            self._track_sent, self._track_sent_at = track, now
        if "length_seconds" in state:
            out.send("position", ("f", state["position_seconds"]), ("f", state["length_seconds"]))
        if "scene" not in state:
            return
        out.send("probabilities", *(("f", value) for value in state["probabilities"]))
        out.send("scene", ("s", state["scene"]), ("s", state["mode"]))
        out.send("onset", ("f", state["onset"]))
        if state["colour"] is not None:
            out.send("colour", *(("f", value) for value in state["colour"]))
        out.send("mood", ("f", state["arousal"]), ("f", state["valence"]))
        out.send("tempo", ("f", state["tempo_bpm"] or 0.0))
        out.send("level", ("f", state["level_db"]))
        out.send("bands", *(("f", level) for level in state["bands_db"]))

    # ----- HTTP -----
    def serve_http(self, port: int) -> bool:
        """--http PORT (0: any free port; `http.port` says which)."""
        try:
            pages = {"/": REMOTE_PAGE, "/index.html": REMOTE_PAGE, "/screen": SCREEN_PAGE}
            self.http = HttpRemote(port, pages, parent=self)
        except HttpUnavailable as error:
            self.window.set_fault(REMOTE_FAULT, str(error))
            return False
        self.http.requested.connect(self._answer_http)
        self.address_code_button.setEnabled(True)
        addresses = sorted(local_addresses()) or ["this machine's address"]
        self.http_label.setText(
            " or ".join(f"http://{address}:{self.http.port}/" for address in addresses)
        )
        self.http_label.setToolTip(
            f"There: the remote page; /screen, the picture alone for a second screen; "
            f"{PREFIX}{LIVE}, the picture live for OBS or VLC"
        )
        return True

    def show_address_code(self) -> None:
        """The QR code button: the remote's addresses as QR codes (each network address's
        phone page, second screen and live picture; this machine's own where it has no
        network)."""
        if self.http is None:
            return
        port = self.http.port
        urls = {}
        for address in sorted(local_addresses()) or ["127.0.0.1"]:
            where = address if address != "127.0.0.1" else "this computer only: no network"
            urls[f"Remote page ({where})"] = f"http://{address}:{port}/"
            urls[f"Second screen ({where})"] = f"http://{address}:{port}/screen"
            urls[f"Live picture for OBS or VLC ({where})"] = (
                f"http://{address}:{port}{PREFIX}{LIVE}"
            )
        if self.address_code is not None:  # the one shown before, with the addresses then
            self.address_code.close()
            self.address_code.deleteLater()
        self.address_code = AddressCodeDialog(urls, self.window)
        self.address_code.show()

    def _answer_http(self, request: RemoteRequest) -> None:
        """A request from the HTTP remote, on the GUI thread: answered into the request."""
        if request.action == STATE:
            request.reply(200, self.state())
            return
        if request.action == PICTURE:  # the shown frame: never changed once shown
            shown = self.window.canvas.shown_pixels()  # its middle where it fills a wide screen
            if shown is None:
                request.reply(503, {"error": "no picture yet"})
            else:
                request.reply(200, {"pixels": np.ascontiguousarray(shown)})
            return
        try:
            refusal, status = self.perform(request.action, request.args), 409
        except ValueError as error:
            refusal, status = str(error), 400
        if refusal is None:
            self.window.set_fault(REMOTE_FAULT, None)
            request.reply(200, {"ok": True})
        else:
            message = f"HTTP {PREFIX}{request.action}: {refusal}"
            self.window.set_fault(REMOTE_FAULT, message)
            request.reply(status, {"error": message})

    def close(self) -> None:
        self.stop_recording()
        self.picture_saver.wait()
        self._state_timer.stop()
        if self.osc_in is not None:
            self.osc_in.close()
            self.osc_in = None
        self._query_timer.stop()
        if self.osc_query is not None:
            self.osc_query.close()
            self.osc_announcement.close()
            self.osc_query = self.osc_announcement = None
        self.osc_out = None
        if self.http is not None:
            self.http.close()
            self.http = None
        self._midi_feedback_timer.stop()
        if self.midi is not None:
            self.midi.close()
            self.midi = None
        self.set_ndi(False)
        self.beats.close()
        self.lights.close()
