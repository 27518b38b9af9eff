"""The compact side panel: what is running (source, devices, provider, fps, latency), live
category bars, and the controls (source picker, transport, A/V offset, scene mode, reactivity,
scene memory, spectrogram options). It only shows and emits; the main window decides."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSlider,
    QSpinBox,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from visualizer.feel import MAX_FEEL_STRENGTH, describe_feel
from visualizer.frontend.bands import BAND_NAMES
from visualizer.frontend.level import GATE_DB
from visualizer.scene_memory import MAX_APP_SECONDS

from .canvas_orientation import ROTATIONS
from .scene_director import MAX_CROSSFADE_SECONDS, MAX_REACTIVITY, MIN_CROSSFADE_SECONDS
from .spectrogram_view import COLORMAPS

if TYPE_CHECKING:
    from .frame_worker import FramePacket

BAR_STEPS = 1000
REACTIVITY_STEPS = 100  # slider units per 1.0 of reactivity
FEEL_STEPS = 100  # slider units per 1.0 of feel strength
LEVEL_LABEL_SECONDS = 0.25  # the Level row is written at most this often (it moves every frame)


def describe_level(
    meter_db: float,
    level_db: float | None,
    gain_db: float,
    auto_level: bool,
    live_input: bool,
    has_reference: bool,
    clipping: bool = False,
) -> str:
    """The Level row: the audio's level as it comes and what the automatic gain does with it.
    `meter_db` is the level of the last moment (silence is said at once), `level_db` the
    level the gain follows (over about 20 s, so the figure reads steadily; None before any
    sound), `has_reference`: the model names the level of its training music, `clipping`:
    an input sample reached full scale lately (a file's loud master is not named)."""
    if meter_db <= GATE_DB:
        quiet = f"silent (below {GATE_DB:.0f} dBFS)"
        return f"{quiet}: is the input muted or turned down?" if live_input else quiet
    text = f"{round(meter_db if level_db is None else level_db)} dBFS"  # never "-0"
    if not live_input:
        return text  # a file plays at its own level, as the training music did
    if not has_reference:
        text = f"{text} (not levelled: the model names no music level)"
    elif not auto_level:
        text = f"{text} (auto level off)"
    else:
        text = f"{text}, {round(gain_db):+d} dB auto level"
    return f"{text}; clipping: turn the input down" if clipping else text


def describe_bands(levels_db: tuple[float, ...]) -> str:
    """The Bands row: the low, mid and high meters as OSC's /musicscape/bands sends them,
    "low -12 · mid -20 · high -35 dB"; a band below GATE_DB reads "–"."""
    shown = [
        f"{name} {round(level)}" if level > GATE_DB else f"{name} –"
        for name, level in zip(BAND_NAMES, levels_db, strict=True)
    ]
    return " · ".join(shown) + " dB"


def describe_tempo(
    tempo_bpm: float | None, listening: bool = False, grid: str | None = None
) -> str:
    """'124 BPM'; 'listening…' until enough music has been heard to count; 'no steady beat'
    when the music has no pulse to count; a beat grid's tempo (beat_grid.py) to a tenth, as
    show software sets it, with the grid's name: '127.5 BPM (Ableton Link)'."""
    if grid is not None and tempo_bpm is not None:
        return f"{tempo_bpm:.1f} BPM ({grid})"
    if listening:
        return "listening…"
    return "no steady beat" if tempo_bpm is None else f"{tempo_bpm:.0f} BPM"


class ControlPanel(QWidget):
    source_chosen = pyqtSignal(int)  # index in the picker
    output_chosen = pyqtSignal(int)  # index in the output picker (0: the default output)
    refresh_requested = pyqtSignal()
    open_file_requested = pyqtSignal()
    open_folder_requested = pyqtSignal()
    previous_requested = pyqtSignal()
    play_pause_requested = pyqtSignal()
    next_requested = pyqtSignal()
    list_loop_changed = pyqtSignal(bool)
    list_shuffle_changed = pyqtSignal(bool)
    seek_requested = pyqtSignal(float)  # seconds
    av_offset_changed = pyqtSignal(float)  # ms
    reactivity_changed = pyqtSignal(float)
    feel_changed = pyqtSignal(float)
    scene_memory_changed = pyqtSignal(float)  # seconds
    crossfade_changed = pyqtSignal(float)  # seconds
    on_beat_changed = pyqtSignal(bool)
    on_bar_changed = pyqtSignal(bool)
    auto_level_changed = pyqtSignal(bool)
    title_cards_changed = pyqtSignal(bool)
    about_requested = pyqtSignal()
    mode_chosen = pyqtSignal(int)  # index in the mode box
    remember_scenes_changed = pyqtSignal(bool)
    log_frequency_changed = pyqtSignal(bool)
    colormap_changed = pyqtSignal(str)
    fill_changed = pyqtSignal(bool)
    mirrored_changed = pyqtSignal(bool)
    rotation_chosen = pyqtSignal(int)  # degrees clockwise, one of ROTATIONS
    test_card_changed = pyqtSignal(bool)
    pinning_changed = pyqtSignal(bool)
    corners_reset_requested = pyqtSignal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMaximumWidth(340)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)

        self.fault_label = QLabel()
        self.fault_label.setWordWrap(True)
        self.fault_label.setStyleSheet(
            "QLabel { background: #5a1e1e; color: white; padding: 6px; border-radius: 4px; }"
        )
        self.fault_label.hide()
        layout.addWidget(self.fault_label)

        status = QGroupBox("Now")
        form = QFormLayout(status)
        self.source_label = QLabel("-")
        self.device_label = QLabel("-")
        self.level_label = QLabel("-")
        self.bands_label = QLabel("-")
        self._level_written_at = float("-inf")
        self.provider_label = QLabel("-")
        self.fps_label = QLabel("-")
        self.picture_label = QLabel("-")
        self.latency_label = QLabel("-")
        self.mode_label = QLabel("-")
        self._scene_remembered = False  # the scene that runs is the playing file's own
        self.feel_label = QLabel("-")
        self.tempo_label = QLabel("-")
        self.screen_label = QLabel("-")
        # Every value may be wider than the panel (a long file name, a feel with its numbers,
        # a provider that fell back): each wraps rather than being cut at the panel's edge.
        for label in self.now_labels():
            label.setWordWrap(True)
        form.addRow("Source", self.source_label)
        form.addRow("Device", self.device_label)
        form.addRow("Level", self.level_label)
        form.addRow("Bands", self.bands_label)
        form.addRow("Runs on", self.provider_label)
        form.addRow("Frames", self.fps_label)
        form.addRow("Picture", self.picture_label)
        form.addRow("Latency", self.latency_label)
        form.addRow("Scene", self.mode_label)
        form.addRow("Feel", self.feel_label)
        form.addRow("Tempo", self.tempo_label)
        form.addRow("Screen", self.screen_label)
        layout.addWidget(status)

        self.bars_box = QGroupBox("Categories")
        self.bars_layout = QFormLayout(self.bars_box)
        self.bars: list[QProgressBar] = []
        layout.addWidget(self.bars_box)

        source_box = QGroupBox("Audio")
        source_layout = QVBoxLayout(source_box)
        self.source_picker = QComboBox()
        self.source_picker.activated.connect(self.source_chosen.emit)
        picker_row = QHBoxLayout()
        picker_row.addWidget(self.source_picker, 1)
        refresh = QPushButton("↻")
        refresh.setToolTip("Look for audio devices again")
        refresh.clicked.connect(self.refresh_requested.emit)
        picker_row.addWidget(refresh)
        source_layout.addLayout(picker_row)
        self.output_picker = QComboBox()
        self.output_picker.setToolTip("Where files play (the demo too); inputs are not played")
        self.output_picker.activated.connect(self.output_chosen.emit)
        output_row = QFormLayout()
        output_row.addRow("Plays to", self.output_picker)
        source_layout.addLayout(output_row)
        opening = QHBoxLayout()
        open_button = QPushButton("Open…")
        open_button.setToolTip("Audio files, playlists or cue sheets: they play in turn (O)")
        open_button.clicked.connect(self.open_file_requested.emit)
        open_folder_button = QPushButton("Open folder…")
        open_folder_button.setToolTip(
            "A folder of music (an album, an artist's albums, a whole music folder): its "
            "files and those of the folders inside it play in turn"
        )
        open_folder_button.clicked.connect(self.open_folder_requested.emit)
        opening.addWidget(open_button)
        opening.addWidget(open_folder_button)
        source_layout.addLayout(opening)
        transport = QHBoxLayout()
        # the style's own icons: a font need not have the media symbols' glyphs
        icon = self.style().standardIcon
        self.previous_button = QPushButton(icon(QStyle.StandardPixmap.SP_MediaSkipBackward), "")
        self.previous_button.setAccessibleName("Previous")
        self.previous_button.setToolTip(
            "Back to the start of the track, or in its first 3 s the one before (Ctrl+←)"
        )
        self.previous_button.clicked.connect(self.previous_requested.emit)
        self.play_button = QPushButton("Pause")
        self.play_button.clicked.connect(self.play_pause_requested.emit)
        self.next_button = QPushButton(icon(QStyle.StandardPixmap.SP_MediaSkipForward), "")
        self.next_button.setAccessibleName("Next")
        self.next_button.setToolTip("The next track or file (N)")
        self.next_button.clicked.connect(self.next_requested.emit)
        transport.addWidget(self.previous_button)
        transport.addWidget(self.play_button, stretch=1)
        transport.addWidget(self.next_button)
        source_layout.addLayout(transport)
        self.seek_slider = QSlider(Qt.Orientation.Horizontal)
        self.seek_slider.setRange(0, 1000)
        self.seek_slider.sliderReleased.connect(self._seek_released)
        self.position_label = QLabel("")
        source_layout.addWidget(self.seek_slider)
        source_layout.addWidget(self.position_label)
        list_order = QHBoxLayout()
        self.list_loop = QCheckBox("Loop the list")
        self.list_loop.setToolTip("After the list's last file, its first again (one file: itself)")
        self.list_loop.toggled.connect(self.list_loop_changed.emit)
        self.list_shuffle = QCheckBox("Shuffle")
        self.list_shuffle.setToolTip(
            "The list's other files in a random order after the one playing (dealt again each "
            "time a looping list starts over); off: the order they were given in"
        )
        self.list_shuffle.toggled.connect(self.list_shuffle_changed.emit)
        list_order.addWidget(self.list_loop)
        list_order.addWidget(self.list_shuffle)
        source_layout.addLayout(list_order)
        self.av_offset = QDoubleSpinBox()
        self.av_offset.setRange(-1000.0, 1000.0)
        self.av_offset.setSingleStep(10.0)
        self.av_offset.setSuffix(" ms")
        self.av_offset.setToolTip("Shift the picture against the sound (positive: picture later)")
        self.av_offset.valueChanged.connect(self.av_offset_changed.emit)
        offset_row = QFormLayout()
        offset_row.addRow("A/V offset", self.av_offset)
        source_layout.addLayout(offset_row)
        self.auto_level = QCheckBox("Auto level for inputs")
        self.auto_level.setToolTip(
            "Bring a microphone or line input to the level of the music the model was trained "
            "on, slowly (over about 20 s), so the scene does not depend on how loud the room "
            "or the input's gain is; files play at their own level"
        )
        self.auto_level.toggled.connect(self.auto_level_changed.emit)
        source_layout.addWidget(self.auto_level)
        self.title_cards = QCheckBox("Show each track's title on the scene")
        self.title_cards.setToolTip(
            "When a file starts (or another player starts a track into an input), its title "
            "and artist (from its tags, else its name) fade in over the scene for a few "
            "seconds (T); recordings and NDI never carry them"
        )
        self.title_cards.toggled.connect(self.title_cards_changed.emit)
        source_layout.addWidget(self.title_cards)
        layout.addWidget(source_box)

        scene_box = QGroupBox("Scene")
        scene_form = QFormLayout(scene_box)
        self.mode_box = QComboBox()
        self.mode_box.activated.connect(self.mode_chosen.emit)
        self.reactivity = QSlider(Qt.Orientation.Horizontal)
        self.reactivity.setRange(0, round(MAX_REACTIVITY * REACTIVITY_STEPS))
        self.reactivity.valueChanged.connect(
            lambda value: self.reactivity_changed.emit(value / REACTIVITY_STEPS)
        )
        scene_form.addRow("Mode", self.mode_box)
        self.remember_scenes = QCheckBox()
        self.remember_scenes.setToolTip(
            "A scene you hold or bias toward while a file (or a named track from another "
            "player) plays is kept for that track, which starts in it the next time it plays; "
            "auto while it plays forgets it"
        )
        self.remember_scenes.toggled.connect(self.remember_scenes_changed.emit)
        self.show_remembered_count(0)
        scene_form.addRow(self.remember_scenes)
        scene_form.addRow("Reactivity", self.reactivity)
        self.feel = QSlider(Qt.Orientation.Horizontal)
        self.feel.setRange(0, round(MAX_FEEL_STRENGTH * FEEL_STEPS))
        self.feel.setToolTip(
            "How strongly light and colour follow the music's feel: lighter, warmer and more "
            "saturated for fast major music, darker and bluer for slow minor music (0: off)"
        )
        self.feel.valueChanged.connect(lambda value: self.feel_changed.emit(value / FEEL_STEPS))
        scene_form.addRow("Feel", self.feel)
        self.scene_memory = QSpinBox()
        self.scene_memory.setRange(0, MAX_APP_SECONDS)
        self.scene_memory.setSuffix(" s")
        self.scene_memory.setToolTip(
            "How long the scene averages the music over (0: it follows every change at once)"
        )
        self.scene_memory.valueChanged.connect(
            lambda seconds: self.scene_memory_changed.emit(float(seconds))
        )
        scene_form.addRow("Scene memory", self.scene_memory)
        self.crossfade = QDoubleSpinBox()
        self.crossfade.setRange(MIN_CROSSFADE_SECONDS, MAX_CROSSFADE_SECONDS)
        self.crossfade.setDecimals(2)  # an OSC or MIDI value such as 6.25 s is shown as it runs
        self.crossfade.setSingleStep(0.5)
        self.crossfade.setSuffix(" s")
        self.crossfade.setToolTip(
            "How long a change of scene takes (10% to 90% of the way): short for a set that "
            "drops, long for an ambient one"
        )
        self.crossfade.valueChanged.connect(self.crossfade_changed.emit)
        scene_form.addRow("Cross-fade", self.crossfade)
        self.on_beat = QCheckBox("Scene changes on the beat")
        self.on_beat.setToolTip(
            "A scene you ask for (hold, bias, auto, a preset) starts on the music's next beat, "
            "2 s at the most after you ask"
        )
        self.on_beat.toggled.connect(self.on_beat_changed.emit)
        scene_form.addRow(self.on_beat)
        self.on_bar = QCheckBox("… on the bar (Link, MIDI clock, taps)")
        self.on_bar.setToolTip(
            "A scene you ask for starts on the next bar's first beat of the beat grid followed "
            "(5 s at the most); with the music's own beats, which mark no bars, on the next beat"
        )
        self.on_bar.toggled.connect(self.on_bar_changed.emit)
        scene_form.addRow(self.on_bar)
        self.preset_label = QLabel("-")
        self.preset_label.setWordWrap(True)
        self.preset_label.setToolTip(
            "F1 … F8 recall a look (mode, reactivity, feel, scene memory, cross-fade); "
            "Shift+F1 … F8 store the one that runs"
        )
        scene_form.addRow("Presets", self.preset_label)
        self.log_frequency = QCheckBox("Log frequency axis")
        self.log_frequency.toggled.connect(self.log_frequency_changed.emit)
        self.colormap = QComboBox()
        self.colormap.addItems(COLORMAPS)
        self.colormap.currentTextChanged.connect(self.colormap_changed.emit)
        scene_form.addRow(self.log_frequency)
        scene_form.addRow("Colours", self.colormap)
        layout.addWidget(scene_box)
        layout.addWidget(self._canvas_box())

        hint = QLabel("Press H for keyboard shortcuts")
        hint.setStyleSheet("color: gray;")
        self.about_button = QPushButton("About…")
        self.about_button.setToolTip("The version, the models and their card, the demo's credits")
        self.about_button.clicked.connect(self.about_requested.emit)
        hint_row = QHBoxLayout()
        hint_row.addWidget(hint, 1)
        hint_row.addWidget(self.about_button)
        layout.addLayout(hint_row)
        layout.addStretch(1)

    def _canvas_box(self) -> QGroupBox:
        """How the canvas meets its screen: fill, mirror, rotation, corner pin, the test
        card."""
        box = QGroupBox("Canvas")
        form = QFormLayout(box)
        self.fill = QCheckBox("Fill the screen, edges cropped (F)")
        self.fill.setToolTip(
            "The scene covers the canvas, its overhang cut off, instead of black bars; "
            "recordings, saved pictures and NDI take the same middle, in the canvas's shape"
        )
        self.fill.toggled.connect(self.fill_changed.emit)
        form.addRow(self.fill)
        self.mirrored = QCheckBox("Mirror left and right (M): rear projection")
        self.mirrored.toggled.connect(self.mirrored_changed.emit)
        form.addRow(self.mirrored)
        self.rotation = QComboBox()
        self.rotation.addItems([f"{turn}° clockwise" if turn else "none" for turn in ROTATIONS])
        self.rotation.setToolTip("A projector on its side, or a screen mounted portrait")
        self.rotation.currentIndexChanged.connect(
            lambda index: self.rotation_chosen.emit(ROTATIONS[index])
        )
        form.addRow("Turn", self.rotation)
        self.pinning = QPushButton("Pin corners (C)")
        self.pinning.setCheckable(True)
        self.pinning.setToolTip(
            "Keystone: drag the picture's corners to the corners of the surface a projector "
            "throws it on, over the test card"
        )
        self.pinning.toggled.connect(self.pinning_changed.emit)
        self.corners_reset = QPushButton("Square again")
        self.corners_reset.setToolTip("Every corner back to the screen's own")
        self.corners_reset.clicked.connect(self.corners_reset_requested.emit)
        corner_row = QHBoxLayout()
        corner_row.addWidget(self.pinning, 1)
        corner_row.addWidget(self.corners_reset)
        form.addRow(corner_row)
        self.corners_label = QLabel("corners not pinned")
        self.corners_label.setWordWrap(True)
        self.corners_label.setStyleSheet("color: gray;")
        form.addRow(self.corners_label)
        self.test_card = QPushButton("Test card (G)")
        self.test_card.setCheckable(True)
        self.test_card.setToolTip(
            "In place of the scene: edges, a grid, a circle and colours to set up a projector"
        )
        self.test_card.toggled.connect(self.test_card_changed.emit)
        form.addRow(self.test_card)
        return box

    def _seek_released(self) -> None:
        duration = self.seek_slider.property("duration") or 0.0
        self.seek_requested.emit(self.seek_slider.value() / 1000.0 * float(duration))

    def set_categories(self, names: tuple[str, ...]) -> None:
        while self.bars_layout.rowCount():
            self.bars_layout.removeRow(0)
        self.bars = []
        for index, name in enumerate(names):
            bar = QProgressBar()
            bar.setRange(0, BAR_STEPS)
            bar.setTextVisible(True)
            bar.setFormat("%p%")
            self.bars_layout.addRow(f"{index + 1} {name}", bar)
            self.bars.append(bar)

    def now_labels(self) -> tuple[QLabel, ...]:
        """The value labels of the "Now" box, in the order it shows them."""
        return (
            self.source_label,
            self.device_label,
            self.level_label,
            self.bands_label,
            self.provider_label,
            self.fps_label,
            self.picture_label,
            self.latency_label,
            self.mode_label,
            self.feel_label,
            self.tempo_label,
            self.screen_label,
        )

    def set_probabilities(self, probabilities) -> None:
        for bar, value in zip(self.bars, probabilities, strict=False):
            bar.setValue(round(float(value) * BAR_STEPS))

    def show_frame(
        self,
        packet: FramePacket,
        categories: tuple[str, ...],
        live_input: bool = False,
        has_reference: bool = False,
    ) -> None:
        """What a shown frame was made of: the category bars, the picture's size and how it
        was enlarged, the scene mode, the feel and the audio's level (labels set only when
        their text changes, the level and its bands at most every LEVEL_LABEL_SECONDS)."""
        self.set_probabilities(packet.probabilities)
        if packet.produced_time - self._level_written_at >= LEVEL_LABEL_SECONDS:
            self._level_written_at = packet.produced_time
            level = describe_level(
                packet.input_meter_db,
                packet.input_level_db,
                packet.level_gain_db,
                packet.auto_level,
                live_input,
                has_reference,
                packet.input_clipping,
            )
            if self.level_label.text() != level:
                self.level_label.setText(level)
            bands = describe_bands(packet.band_levels_db)
            if self.bands_label.text() != bands:
                self.bands_label.setText(bands)
        picture = f"{packet.output_size} px ({packet.upscaling})"
        if self.picture_label.text() != picture:
            self.picture_label.setText(picture)
        text = packet.scene_mode.describe(categories)
        if packet.mode_waiting:
            text += " (waiting to hear it once)"
        if packet.pending_mode is not None:
            text += f"; {packet.pending_mode.describe(categories)} on the next beat"
        if self._scene_remembered:
            text += " (remembered for this track)"
        if self.mode_label.text() != text:
            self.mode_label.setText(text)
        feel = describe_feel(packet.arousal, packet.valence)
        if self.feel_label.text() != feel:
            self.feel_label.setText(feel)
        tempo = describe_tempo(packet.tempo_bpm, packet.tempo_listening, packet.tempo_source)
        if self.tempo_label.text() != tempo:
            self.tempo_label.setText(tempo)

    def show_remembered(self, remembered: bool) -> None:
        """Whether the scene that runs is the one remembered for the playing file."""
        self._scene_remembered = remembered

    def show_remembered_count(self, count: int) -> None:
        tracks = "1 track" if count == 1 else f"{count:,} tracks"
        self.remember_scenes.setText(f"Remember each track's scene ({tracks})")

    def show_figures(self, fps: float, latencies) -> None:
        """The live frame rate, and the median audio-to-picture latency of the last 20 beats."""
        self.fps_label.setText(f"{fps:.0f} fps")
        if latencies:
            recent = list(latencies)[-20:]
            self.latency_label.setText(f"{1e3 * sorted(recent)[len(recent) // 2]:.0f} ms")

    def set_position(
        self,
        position: float | None,
        duration: float | None,
        can_go_back: bool = False,
        can_go_next: bool = False,
    ) -> None:
        """Where the file stands (None: no file plays), and whether previous and next have
        somewhere to go."""
        enabled = duration is not None and duration > 0
        self.seek_slider.setEnabled(enabled)
        self.play_button.setEnabled(enabled)
        self.previous_button.setEnabled(can_go_back)
        self.next_button.setEnabled(can_go_next)
        if not enabled:
            self.position_label.setText("")
            return
        self.seek_slider.setProperty("duration", duration)
        if not self.seek_slider.isSliderDown():
            self.seek_slider.setValue(round(1000 * min(position / duration, 1.0)))
        self.position_label.setText(f"{_clock(position)} / {_clock(duration)}")

    def show_faults(self, text: str) -> None:
        self.fault_label.setText(text)
        self.fault_label.setVisible(bool(text))


def _clock(seconds: float) -> str:
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}:{rest:02d}"
