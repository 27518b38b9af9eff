"""The main window: canvas, spectrogram and control panel, wired to the sources and worker.

It owns one analysis ring (sources write, the worker reads), the current source, the model
runtime and the worker. Every fault (no device, a lost device, a bad file, a bad model, a
failing provider) becomes a line of plain words in the panel; the window keeps running and
no setting is lost. Shortcuts work in every window of the app (the detached canvas too).
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import replace
from pathlib import Path

from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtGui import QGuiApplication
from PyQt6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QMainWindow,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from visualizer.feel import MAX_FEEL_STRENGTH, describe_feel
from visualizer.frontend import AudioDecodeError, FrontEndContract
from visualizer.model_files import ModelFileError
from visualizer.scene_memory import MAX_APP_SECONDS

from .app_settings import SOURCE_DEMO, SOURCE_FILE, SOURCE_INPUT, AppSettings
from .audio_sources import (
    AudioDeviceError,
    CaptureSource,
    FilePlayback,
    InputChoice,
    capture_rate,
    list_inputs,
    rescan_devices,
)
from .canvas_window import CanvasWindow
from .control_panel import FEEL_STEPS, ControlPanel
from .frame_stats import FrameStats
from .frame_worker import (
    FrameWorker,
    ResetAudio,
    SetAvOffset,
    SetFeelStrength,
    SetLogFrequency,
    SetReactivity,
    SetSceneMemory,
    SetSceneMode,
    WorkerCommand,
    WorkerSettings,
)
from .keyboard import bind_keys, help_overlay
from .model_loader import ModelLoader
from .model_runtime import ModelRuntime
from .playlist import AUDIO_SUFFIXES, Playlist
from .sample_ring import SampleRing
from .scene_canvas import SceneCanvas
from .scene_director import AUTO, BIAS, HOLD, SceneMode
from .spectrogram_view import SpectrogramView
from .stage import Stage

RING_SECONDS = 8.0
HEALTH_PERIOD_MS = 250
SILENT_DEVICE_SECONDS = 2.5  # an input that delivered nothing this long is treated as lost
RETRY_SECONDS = 2.0
OUTPUT_RETRY_SECONDS = 1.0  # a lost output device is looked for this often
AUDIO_EXTENSIONS = " ".join(f"*{suffix}" for suffix in AUDIO_SUFFIXES)


class MainWindow(QMainWindow):
    def __init__(
        self,
        settings: AppSettings,
        model_dir: Path,
        demo_dir: Path,
        use_output_device: bool = True,
        worker_settings: WorkerSettings | None = None,
        input_rate: int | None = None,
        feel_strength: float | None = None,
    ):
        super().__init__()
        self.input_rate = input_rate  # open inputs at this rate (None: the models' if they can)
        self.settings = settings
        self.model_dir = Path(model_dir)
        self.demo_dir = Path(demo_dir)
        self.use_output_device = use_output_device
        chosen = worker_settings or WorkerSettings()
        # What the next worker starts with; a running worker changes only through _send.
        self.worker_settings = replace(
            chosen,
            av_offset_ms=settings.av_offset_ms,
            log_frequency=settings.log_frequency,
            reactivity=settings.reactivity,
            feel_strength=settings.feel_strength if feel_strength is None else feel_strength,
            scene_memory_seconds=(
                settings.scene_memory_seconds  # no --scene-memory given
                if chosen.scene_memory_seconds is None
                else chosen.scene_memory_seconds
            ),
        )
        self.setWindowTitle("musicscape")
        self.setAcceptDrops(True)
        self.faults: dict[str, str] = {}
        self.stats = FrameStats()
        self.runtime: ModelRuntime | None = None
        self.worker: FrameWorker | None = None
        self.source: CaptureSource | FilePlayback | None = None
        self.inputs: list[InputChoice] = []
        self._source_silent_since: float | None = None
        self._retry_at = 0.0
        self._output_retry_at = 0.0
        self._last_blocks = 0
        self.canvas_window: CanvasWindow | None = None
        self.playlist: Playlist | None = None  # the files that play one after another
        self.playlist_ended = False  # the last file has played: shown, not silently frozen

        self.canvas = SceneCanvas(self.stats)
        self.canvas.set_fill(settings.canvas_fill)
        self.spectrogram = SpectrogramView(settings.colormap)
        self.panel = ControlPanel()
        self.help_overlay = help_overlay()
        self._build_layout()
        self._connect_panel()
        bind_keys(self)
        self.stage = Stage(self)  # OSC, MIDI, recording, NDI: through the same methods as keys
        if settings.geometry is not None:
            self.restoreGeometry(settings.geometry)
        else:
            self.resize(1100, 720)

        self.contract = FrontEndContract()
        self.ring = SampleRing(
            int(RING_SECONDS * self.contract.sample_rate), self.contract.sample_rate
        )
        self.model_loader = ModelLoader(self)
        self.model_loader.loaded.connect(self._use_runtime)
        self.model_loader.failed.connect(self._reload_failed)
        self.load_models()
        self.refresh_inputs()
        self._start_remembered_source()
        self.health_timer = QTimer(self)
        self.health_timer.setInterval(HEALTH_PERIOD_MS)
        self.health_timer.timeout.connect(self._check_health)
        self.health_timer.start()

    # ----- layout -----
    def _build_layout(self) -> None:
        self.canvas_holder = QWidget()
        holder_layout = QVBoxLayout(self.canvas_holder)
        holder_layout.setContentsMargins(0, 0, 0, 0)
        holder_layout.addWidget(self.canvas)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.canvas_holder)
        self.splitter.addWidget(self.spectrogram)
        self.splitter.setStretchFactor(0, 4)
        self.splitter.setStretchFactor(1, 1)
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.panel)
        self.setCentralWidget(central)
        self.help_overlay.setParent(central)
        self.help_overlay.hide()
        self.panel.reactivity.setValue(round(self.settings.reactivity * 100))
        self.panel.feel.setValue(round(self.worker_settings.feel_strength * FEEL_STEPS))
        self.panel.av_offset.setValue(self.settings.av_offset_ms)
        self.panel.log_frequency.setChecked(self.settings.log_frequency)
        self.panel.colormap.setCurrentText(self.settings.colormap)

    def _connect_panel(self) -> None:
        panel = self.panel
        panel.source_chosen.connect(self._on_source_chosen)
        panel.refresh_requested.connect(self.rescan_inputs)
        panel.open_file_requested.connect(self.choose_file)
        panel.play_pause_requested.connect(self.toggle_pause)
        panel.seek_requested.connect(self.seek)
        panel.av_offset_changed.connect(self.set_av_offset)
        panel.reactivity_changed.connect(self.set_reactivity)
        panel.feel_changed.connect(self.set_feel_strength)
        panel.scene_memory_changed.connect(self.set_scene_memory)
        panel.mode_chosen.connect(self._on_mode_chosen)
        panel.log_frequency_changed.connect(self.set_log_frequency)
        panel.colormap_changed.connect(self._on_colormap)

    # ----- faults -----
    def set_fault(self, area: str, message: str | None) -> None:
        if message:
            self.faults[area] = message
        else:
            self.faults.pop(area, None)
        self.panel.show_faults("\n".join(self.faults.values()))

    def fault_text(self) -> str:
        return "\n".join(self.faults.values())

    # ----- models and worker -----
    def load_models(self) -> None:
        """Load the model directory now (at start-up, before the window shows)."""
        try:
            runtime = ModelRuntime(self.model_dir)
        except ModelFileError as error:
            self._stop_worker()
            self.runtime = None
            self.set_fault("models", f"No picture: {error}")
            self.panel.provider_label.setText("-")
            self._set_categories(())
            return
        self._use_runtime(runtime)

    def reload_models(self) -> bool:
        """Ctrl+R: load the model directory again on a background thread. The running models
        keep painting until the new ones are ready, and stay if the files turn out bad.
        False while a reload is already under way."""
        return self.model_loader.start(self.model_dir)

    def _reload_failed(self, message: str) -> None:
        if self.runtime is None:
            self.set_fault("models", f"No picture: {message}")
        else:
            self.set_fault("models", f"Reload failed, still showing the previous models: {message}")

    def _use_runtime(self, runtime: ModelRuntime) -> None:
        self._stop_worker()
        self.runtime = runtime
        self.set_fault("models", None)
        self.set_fault("provider", runtime.providers.warning)
        self.panel.provider_label.setText(runtime.active_provider.replace("ExecutionProvider", ""))
        contract_changed = runtime.metadata.frontend != self.contract
        self.contract = runtime.metadata.frontend
        self._set_categories(runtime.metadata.categories)
        if contract_changed and self.source is not None:
            self._restart_current_source()
        self._start_worker()

    def _set_categories(self, names: tuple[str, ...]) -> None:
        self.panel.set_categories(names)
        self.panel.mode_box.clear()
        self.panel.mode_box.addItem("auto (the music chooses)")
        for name in names:
            self.panel.mode_box.addItem(f"hold {name}")
        for name in names:
            self.panel.mode_box.addItem(f"bias toward {name}")
        self._apply_scene_mode()

    def _start_worker(self) -> None:
        if self.runtime is None:
            return
        worker = FrameWorker(self.runtime, self.ring, self.worker_settings)
        worker.frame_ready.connect(self._on_frame_ready)
        worker.failed.connect(lambda message: self.set_fault("worker", message))
        worker.recovered.connect(lambda: self.set_fault("worker", None))
        worker.beat.connect(self.stage.beat)
        self.worker = worker
        self.set_fault("worker", None)  # a new worker: what an earlier one reported is over
        self.panel.scene_memory.blockSignals(True)  # showing the model's value is no choice
        self.panel.scene_memory.setValue(round(worker.settings.scene_memory_seconds))
        self.panel.scene_memory.blockSignals(False)
        worker.start()

    def _send(self, command: WorkerCommand) -> None:
        """Change what the worker runs with: this window's settings for later workers, and
        the running worker's between its frames."""
        self.worker_settings = command.applied_to(self.worker_settings)
        if self.worker is not None:
            self.worker.send(command)

    def _stop_worker(self) -> None:
        worker, self.worker = self.worker, None
        if worker is not None:
            for signal in (worker.frame_ready, worker.failed, worker.recovered):
                signal.disconnect()  # nothing it still had queued reaches the window
            worker.stop()

    def _ensure_ring(self, rate: int | None = None) -> SampleRing:
        """The analysis ring at `rate` (default: the models' rate), rebuilt when its rate
        differs; a running worker moves to the new ring (it converts to the models' rate)."""
        rate = rate or self.contract.sample_rate
        if self.ring.sample_rate != rate:
            self.ring = SampleRing(int(RING_SECONDS * rate), rate)
            if self.worker is not None:
                self._stop_worker()
                self._start_worker()
        return self.ring

    def _capture_ring(self, choice: InputChoice) -> SampleRing:
        rate = self.input_rate or capture_rate(choice, self.contract.sample_rate)
        return self._ensure_ring(rate)

    def _on_frame_ready(self) -> None:
        worker = self.worker
        if worker is None:
            return
        packet = worker.take_latest()
        if packet is None:
            return
        self.canvas.show_frame(packet.sequence, self.stage.frame(packet), packet.onset_time)
        if packet.spectrogram_layout is not self.spectrogram.layout_:
            self.spectrogram.set_layout(packet.spectrogram_layout)
        if packet.spectrogram is not None and self.spectrogram.isVisible():
            self.spectrogram.show_columns(packet.spectrogram)
        self.panel.set_probabilities(packet.probabilities)
        picture = f"{packet.output_size} px ({packet.upscaling})"
        if self.panel.picture_label.text() != picture:
            self.panel.picture_label.setText(picture)
        text = packet.scene_mode.describe(worker.runtime.metadata.categories)
        if packet.mode_waiting:
            text += " (waiting to hear it once)"
        if self.panel.mode_label.text() != text:
            self.panel.mode_label.setText(text)
        feel = describe_feel(packet.arousal, packet.valence)
        if self.panel.feel_label.text() != feel:
            self.panel.feel_label.setText(feel)

    # ----- sources -----
    def rescan_inputs(self) -> None:
        """The refresh button: PortAudio looks for devices afresh (a sound server started
        since, a device plugged in), then the picker lists them. Re-initialising PortAudio
        closes every stream, so the current source lets go of its device and takes it again."""
        source = self.source
        if isinstance(source, CaptureSource):
            self._stop_source()
        elif isinstance(source, FilePlayback) and source.uses_device:
            source.close_output()
        with contextlib.suppress(AudioDeviceError):  # no PortAudio: refresh_inputs says so
            rescan_devices()
        self.refresh_inputs()
        if isinstance(source, CaptureSource):
            choice = self._input_by_key(source.choice.key)
            if choice is not None:
                self.capture_input(choice)
        elif isinstance(source, FilePlayback) and source.uses_device:
            with contextlib.suppress(AudioDeviceError):  # lost: the health check retries
                source.open_output()

    def refresh_inputs(self) -> None:
        try:
            self.inputs = list_inputs()
        except AudioDeviceError as error:
            self.inputs = []
            self.set_fault("inputs", str(error))
        else:
            self.set_fault(
                "inputs", None if self.inputs else "No audio input device found; files still play."
            )
        picker = self.panel.source_picker
        picker.clear()
        picker.addItem("Demo clip")
        picker.addItem(
            f"File: {Path(self.settings.file_path).name}" if self.settings.file_path else "File…"
        )
        for choice in self.inputs:
            picker.addItem(choice.label)
        self._sync_picker()

    def _sync_picker(self) -> None:
        picker = self.panel.source_picker
        kind = self.settings.source_kind
        if kind == SOURCE_DEMO:
            picker.setCurrentIndex(0)
        elif kind == SOURCE_FILE:
            picker.setCurrentIndex(1)
        else:
            keys = [choice.key for choice in self.inputs]
            if self.settings.input_key in keys:
                picker.setCurrentIndex(2 + keys.index(self.settings.input_key))

    def _on_source_chosen(self, index: int) -> None:
        if index == 0:
            self.play_demo()
        elif index == 1:
            if self.settings.file_path:
                self.play_file(self.settings.file_path)
            else:
                self.choose_file()
        else:
            self.capture_input(self.inputs[index - 2])

    def demo_clip(self) -> Path | None:
        clips = sorted(self.demo_dir.glob("*.ogg")) if self.demo_dir.is_dir() else []
        return clips[0] if clips else None

    def _start_remembered_source(self) -> None:
        kind = self.settings.source_kind
        if kind == SOURCE_FILE and self.settings.file_path:
            self.play_file(self.settings.file_path)
        elif kind == SOURCE_INPUT and self.settings.input_key:
            choice = self._input_by_key(self.settings.input_key)
            if choice is None:
                self.set_fault(
                    "source",
                    f"The remembered input '{self.settings.input_key.split(':', 1)[1]}' is not "
                    "connected; waiting for it (or pick another input).",
                )
                self._source_silent_since = time.perf_counter()
            else:
                self.capture_input(choice)
        else:
            self.play_demo()

    def _input_by_key(self, key: str) -> InputChoice | None:
        return next((choice for choice in self.inputs if choice.key == key), None)

    def _replace_source(self, source) -> bool:
        self._stop_source()
        self._send(ResetAudio())
        try:
            source.start()
        except (AudioDeviceError, AudioDecodeError) as error:
            self.set_fault("source", str(error))
            return False
        self.source = source
        self._last_blocks = self.ring.blocks
        self._source_silent_since = None
        self.set_fault("source", None)
        self.panel.source_label.setText(source.description)
        if isinstance(source, FilePlayback):
            self.panel.device_label.setText(f"output: {source.output_name}")
            self.panel.play_button.setText("Pause")
        else:
            self.panel.device_label.setText(source.choice.label)
        return True

    def _stop_source(self) -> None:
        source, self.source = self.source, None
        if source is not None:
            source.stop()

    def play_demo(self) -> None:
        clip = self.demo_clip()
        if clip is None:
            self.set_fault(
                "source",
                f"No demo clip found in {self.demo_dir}; open a file (O) or pick an input.",
            )
            return
        if self._play(clip, loop=True):
            self.settings.source_kind = SOURCE_DEMO
            self._sync_picker()

    def play_file(self, path: str | Path) -> bool:
        return self.play_playlist(Playlist([Path(path)]))

    def play_playlist(self, playlist: Playlist) -> bool:
        """Play the playlist's current file; at its end the next one plays (or, after the
        last, the window says the list has ended). A file that cannot play is skipped."""
        skipped = []
        for _ in playlist.files:
            path = playlist.current
            if self._play(path, loop=playlist.loops_one_file):
                self.set_fault("playlist", "\n".join(skipped) or None)
                self.playlist = playlist
                self.playlist_ended = False
                self.settings.source_kind = SOURCE_FILE
                self.settings.file_path = str(path)
                self.panel.source_picker.setItemText(1, f"File: {path.name}")
                self._sync_picker()
                return True
            skipped.append(f"Skipped: {self.faults['source']}")
            if len(playlist.files) == 1 or playlist.advance() is None:
                return False
        return False

    def next_file(self) -> bool:
        """N: the playlist's next file; after the last (and no --loop), the ended state."""
        playlist = self.playlist
        if playlist is None or self.settings.source_kind != SOURCE_FILE:
            return False
        if playlist.advance() is not None and self.play_playlist(playlist):
            return True
        self._show_ended()
        return False

    def _show_ended(self) -> None:
        self.playlist_ended = True
        if isinstance(self.source, FilePlayback):
            self.source.paused = True
        self.panel.play_button.setText("Play")
        self.panel.source_label.setText(f"{self.panel.source_label.text()} (ended)")

    def _play(self, path: Path, loop: bool) -> bool:
        try:
            playback = FilePlayback(
                path, self._ensure_ring(), use_output_device=self.use_output_device, loop=loop
            )
        except AudioDecodeError as error:
            self.set_fault("source", f"Cannot play that file: {error}")
            return False
        return self._replace_source(playback)

    def capture_input(self, choice: InputChoice) -> bool:
        self.settings.source_kind = SOURCE_INPUT
        self.settings.input_key = choice.key
        ok = self._replace_source(CaptureSource(choice, self._capture_ring(choice)))
        if not ok:
            self._source_silent_since = time.perf_counter()
        self._sync_picker()
        return ok

    def _restart_current_source(self) -> None:
        source = self.source
        if isinstance(source, FilePlayback):
            self._play(source.path, loop=source.loop)
        elif isinstance(source, CaptureSource):
            self.capture_input(source.choice)

    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open an audio file", str(Path.home()), f"Audio ({AUDIO_EXTENSIONS});;All (*)"
        )
        if path:
            self.play_file(path)

    def toggle_pause(self) -> None:
        if self.playlist_ended and self.playlist is not None:  # play the list again
            self.playlist.index = 0
            self.play_playlist(self.playlist)
        elif isinstance(self.source, FilePlayback):
            self.source.paused = not self.source.paused
            self.panel.play_button.setText("Play" if self.source.paused else "Pause")

    def seek(self, seconds: float) -> None:
        if isinstance(self.source, FilePlayback):
            self.source.seek(seconds)

    def seek_relative(self, delta: float) -> None:
        if isinstance(self.source, FilePlayback):
            self.source.seek(self.source.position_seconds + delta)

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt's name
        urls = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if urls:
            self.play_file(urls[0])
            event.acceptProposedAction()

    # ----- health: lost devices, ended files, live figures -----
    def _check_health(self) -> None:
        now = time.perf_counter()
        self._update_figures(now)
        source = self.source
        if self.settings.source_kind == SOURCE_INPUT:
            self._watch_input(source, now)
        elif isinstance(source, FilePlayback):
            self.panel.set_position(source.position_seconds, source.duration_seconds)
            self._watch_output(source, now)
            if source.decode_error:
                self.set_fault("source", f"Playback stopped: {source.decode_error}")
            elif source.finished and not self.playlist_ended and self.playlist is not None:
                self.next_file()
        if not isinstance(source, FilePlayback):
            self.panel.set_position(None, None)

    def _watch_input(self, source, now: float) -> None:
        ring = self.ring
        delivering = (
            isinstance(source, CaptureSource) and source.alive and ring.blocks != self._last_blocks
        )
        self._last_blocks = ring.blocks
        if delivering:
            self._source_silent_since = None
            if "source" in self.faults and self.faults["source"].startswith("Lost"):
                self.set_fault("source", None)
            return
        if self._source_silent_since is None:
            self._source_silent_since = now
            return
        if now - self._source_silent_since < SILENT_DEVICE_SECONDS or now < self._retry_at:
            return
        self._retry_at = now + RETRY_SECONDS
        key = self.settings.input_key
        self._stop_source()
        with contextlib.suppress(AudioDeviceError):  # no PortAudio: refresh_inputs says so
            rescan_devices()  # a sound server that (re)started since is listed only then
        self.refresh_inputs()
        choice = self._input_by_key(key)
        label = key.split(":", 1)[-1]
        if choice is not None and self._replace_source(
            CaptureSource(choice, self._capture_ring(choice))
        ):
            self._source_silent_since = now
            self.set_fault("source", f"Lost input '{label}'; reconnected, waiting for sound.")
            return
        self.set_fault(
            "source",
            f"Lost input '{label}': it stopped delivering sound. Retrying every "
            f"{RETRY_SECONDS:.0f} s; pick another input to switch.",
        )

    def _watch_output(self, playback: FilePlayback, now: float) -> None:
        """A file's output device that stopped (unplugged, its sound server died) is opened
        again every OUTPUT_RETRY_SECONDS; playback is held where it stopped meanwhile."""
        lost_prefix = "Lost the output device"
        if not playback.output_lost:
            if self.faults.get("source", "").startswith(lost_prefix):
                self.set_fault("source", None)
            return
        if now >= self._output_retry_at:
            self._output_retry_at = now + OUTPUT_RETRY_SECONDS
            with contextlib.suppress(AudioDeviceError):
                playback.reopen_output()
                return
        minutes, seconds = divmod(int(playback.position_seconds), 60)
        self.set_fault(
            "source",
            f"{lost_prefix} '{playback.output_name}': the file is held at "
            f"{minutes}:{seconds:02d} and goes on when the device is back (looking for it "
            f"every {OUTPUT_RETRY_SECONDS:.0f} s; Space and seeking still work).",
        )

    def _update_figures(self, now: float) -> None:
        self.panel.fps_label.setText(f"{self.stats.fps(now):.0f} fps")
        if self.stats.latencies:
            recent = list(self.stats.latencies)[-20:]
            self.panel.latency_label.setText(f"{1e3 * sorted(recent)[len(recent) // 2]:.0f} ms")

    # ----- scene controls -----
    def set_scene(self, kind: str, index: int) -> None:
        if self.runtime is None or index >= len(self.runtime.metadata.categories):
            return
        self.settings.scene_mode = kind
        self.settings.scene_category = self.runtime.metadata.categories[index]
        self._apply_scene_mode()

    def set_auto_mode(self) -> None:
        self.settings.scene_mode = AUTO
        self._apply_scene_mode()

    def _apply_scene_mode(self) -> None:
        if self.runtime is None:
            return
        categories = self.runtime.metadata.categories
        kind = self.settings.scene_mode
        name = self.settings.scene_category
        if kind not in (HOLD, BIAS) or name not in categories:
            mode = SceneMode()
            box_index = 0
        else:
            mode = SceneMode(kind, categories.index(name))
            box_index = 1 + mode.category + (len(categories) if kind == BIAS else 0)
        self._send(SetSceneMode(mode))
        self.panel.mode_box.setCurrentIndex(box_index)

    def _on_mode_chosen(self, index: int) -> None:
        count = len(self.runtime.metadata.categories) if self.runtime else 0
        if index == 0 or count == 0:
            self.set_auto_mode()
        elif index <= count:
            self.set_scene(HOLD, index - 1)
        else:
            self.set_scene(BIAS, index - 1 - count)

    def set_reactivity(self, value: float) -> None:
        value = min(max(value, 0.0), 3.0)
        self.settings.reactivity = value
        self._send(SetReactivity(value))
        if abs(self.panel.reactivity.value() - round(value * 100)) > 0:
            self.panel.reactivity.setValue(round(value * 100))

    def set_feel_strength(self, value: float) -> None:
        """How strongly light and colour follow the music's feel (kept in the settings)."""
        value = min(max(value, 0.0), MAX_FEEL_STRENGTH)
        self.settings.feel_strength = value
        self._send(SetFeelStrength(value))
        if self.panel.feel.value() != round(value * FEEL_STEPS):
            self.panel.feel.setValue(round(value * FEEL_STEPS))

    def set_scene_memory(self, seconds: float) -> None:
        """The user's scene memory: kept in the settings, used at once and by later models."""
        seconds = min(max(seconds, 0.0), float(MAX_APP_SECONDS))
        self.settings.scene_memory_seconds = seconds
        self._send(SetSceneMemory(seconds))
        if self.panel.scene_memory.value() != round(seconds):
            self.panel.scene_memory.setValue(round(seconds))

    def set_av_offset(self, milliseconds: float) -> None:
        self.settings.av_offset_ms = milliseconds
        self._send(SetAvOffset(milliseconds))

    def set_log_frequency(self, enabled: bool) -> None:
        self.settings.log_frequency = enabled
        self._send(SetLogFrequency(enabled))

    def _on_colormap(self, name: str) -> None:
        self.settings.colormap = name
        self.spectrogram.set_colormap(name)

    # ----- VJ -----
    def toggle_fullscreen(self) -> None:
        if self.isFullScreen():
            self.showNormal()
        else:
            self.showFullScreen()

    def toggle_fill(self) -> None:
        self.settings.canvas_fill = not self.canvas.fill
        self.canvas.set_fill(self.settings.canvas_fill)

    def leave_fullscreen(self) -> None:
        if self.help_overlay.isVisible():
            self.help_overlay.hide()
        elif self.canvas_window is not None:
            self.canvas_window.close()
        elif self.isFullScreen():
            self.showNormal()

    def toggle_help(self) -> None:
        overlay = self.help_overlay
        if overlay.isVisible():
            overlay.hide()
            return
        overlay.adjustSize()
        parent = overlay.parentWidget()
        overlay.move(
            max(0, (parent.width() - overlay.width()) // 2),
            max(0, (parent.height() - overlay.height()) // 2),
        )
        overlay.show()
        overlay.raise_()

    def toggle_chrome(self) -> None:
        hidden = self.panel.isVisible()
        self.panel.setVisible(not hidden)
        self.spectrogram.setVisible(not hidden)

    def choose_canvas_screen(self) -> None:
        screens = QGuiApplication.screens()
        names = [screen.name() for screen in screens]
        if len(screens) > 1:
            current = (
                names.index(self.settings.canvas_screen)
                if (self.settings.canvas_screen in names)
                else len(names) - 1
            )
            name, ok = QInputDialog.getItem(
                self, "Canvas screen", "Show the canvas alone on:", names, current, False
            )
            if not ok:
                return
        else:
            name = names[0]
        self.settings.canvas_screen = name
        self.detach_canvas(screens[names.index(name)])

    def detach_canvas(self, screen) -> None:
        if self.canvas_window is None:
            self.canvas_window = CanvasWindow(self.attach_canvas)
            self.canvas_window.layout().addWidget(self.canvas)
        window = self.canvas_window
        window.setScreen(screen)
        window.move(screen.geometry().topLeft())
        window.showFullScreen()

    def attach_canvas(self) -> None:
        window, self.canvas_window = self.canvas_window, None
        if window is not None:
            self.canvas_holder.layout().addWidget(self.canvas)
            self.canvas.show()

    # ----- shutdown -----
    def shutdown(self) -> None:
        self.health_timer.stop()
        self.stage.close()
        # a reload that finishes after this must not start a worker
        for signal in (self.model_loader.loaded, self.model_loader.failed):
            with contextlib.suppress(TypeError):  # an earlier shutdown disconnected it
                signal.disconnect()
        self._stop_worker()
        self._stop_source()
        if self.canvas_window is not None:
            self.canvas_window.close()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self.settings.geometry = self.saveGeometry()
        self.shutdown()
        super().closeEvent(event)
