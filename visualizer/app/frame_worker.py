"""The worker: audio from the ring -> rolling STFT -> encoder (a few times a second) and
generator (every display frame) -> the newest frame, posted to the GUI without waiting.

Two threads: the frame loop (a QThread, paced at the display rate) and an encoder thread,
so a slow encoder never delays a frame. ONNX Runtime releases the GIL while it runs.
The frame loop keeps only the newest finished frame; the GUI is signalled once and takes
whatever is newest when it gets to it, so stale frames are dropped, never queued.

The thread contract: the GUI never writes into the worker. It sends `WorkerCommand`s with
`FrameWorker.send`; the frame loop applies them between frames and publishes the settings it
now runs with as one immutable `WorkerSettings` (`FrameWorker.settings`, replaced whole).
Each frame carries the scene mode it was made under and the spectrogram layout its columns
were rendered with, so the GUI reads worker state only from what the worker hands over.

An error in either loop is reported (`failed`, in words; `error_raised`, the exception for
the show's log) and never ends the worker: the encoder tries the next window, and a frame
loop that stopped starts again every `PICTURE_RESTART_SECONDS`; `recovered` says when its
frames flow again.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, replace

import numpy as np
from PyQt6.QtCore import QThread, pyqtSignal

from visualizer.feel import DEFAULT_FEEL_STRENGTH, FeelFollower
from visualizer.frontend import RollingSTFT, StreamResampler
from visualizer.frontend.bands import BAND_NAMES, BandMeter
from visualizer.frontend.descriptors import (
    MIN_TEMPO_SECONDS,
    DescriptorAnalyser,
    MusicDescriptors,
    TempoFollower,
)
from visualizer.frontend.level import SILENT_DB, LevelFollower
from visualizer.model_files import ModelFileError
from visualizer.upscale import Upscaler, load_upscaler

from .beat_grid import BeatGrid
from .model_runtime import ModelRuntime
from .output_size import OutputGovernor, OutputLevel, asked_level, output_levels, pick_output
from .qt_resize import smooth_resize_rgb8
from .sample_ring import SampleRing
from .scene_director import (
    AUTO,
    DEFAULT_CROSSFADE_SECONDS,
    DEFAULT_REACTIVITY,
    HOLD,
    SceneDirector,
    SceneMode,
)
from .spectrogram_image import SpectrogramImage


@dataclass
class FramePacket:
    sequence: int
    image: np.ndarray  # uint8 [N, N, 3], RGB, C-contiguous, N = output_size
    produced_time: float  # perf_counter seconds when the frame was finished
    audio_time: float | None  # capture/play time of the newest sample analysed
    onset_time: float | None  # set on the first frame a beat influenced: that beat's time
    probabilities: np.ndarray  # softmax of the latest category scores
    spectrogram: np.ndarray | None  # uint8 [rows, columns] when new columns arrived
    spectrogram_layout: SpectrogramImage  # the layout the columns were rendered with
    scene_mode: SceneMode  # the mode the frame was made with
    mode_waiting: bool  # a held/biased category the worker has no prototype of yet
    envelope: float = 0.0  # the beat envelope (0-1) this frame was made with
    output_size: int = 0  # N
    upscaling: str = ""  # how the generator's picture became N pixels, in words
    arousal: float = 0.0  # the music's feel the picture was graded by (feel.py)
    valence: float = 0.0
    tempo_bpm: float | None = None  # the music's tempo as followed (None: no steady pulse)
    tempo_listening: bool = False  # too little music heard yet to count a tempo
    tempo_source: str | None = None  # the beat grid that gave the tempo and beats, by name
    # the generator's own picture, float [3, S, S] in [-1, 1], before it was enlarged
    # (a saved picture is enlarged from it); never changed after it is published
    picture: np.ndarray | None = None
    # The audio's level as it came (frontend/level.py): over the last 0.3 s or so, and as
    # the automatic gain follows it (over about 20 s; None until a block above the gate).
    input_meter_db: float = SILENT_DB
    input_level_db: float | None = None
    level_gain_db: float = 0.0  # the automatic gain it was analysed with (0: none)
    input_clipping: bool = False  # a sample reached full scale in the last 2 s
    pending_mode: SceneMode | None = None  # asked for, waiting for the next beat
    auto_level: bool = False  # whether the frame was made with the automatic gain on
    # the low, mid and high bands' meters (frontend/bands.py), dB, as the models hear it
    band_levels_db: tuple[float, ...] = (SILENT_DB,) * len(BAND_NAMES)

    @property
    def shown_category(self) -> int:
        """The category the frame shows: the held one, else the most probable."""
        mode = self.scene_mode
        return mode.category if mode.kind == HOLD else int(np.argmax(self.probabilities))


@dataclass(frozen=True)
class WorkerSettings:
    """What a worker runs with. Immutable: the GUI changes a running worker only by commands."""

    fps: float = 60.0
    encoder_hz: float = 4.0
    av_offset_ms: float = 0.0  # positive: the picture later
    spectrogram_columns: int = 344  # ~8 s at the default hop
    spectrogram_rows: int = 256
    log_frequency: bool = True
    scene_memory_seconds: float | None = None  # None: the model's scene_memory_seconds
    reactivity: float = DEFAULT_REACTIVITY
    crossfade_seconds: float = DEFAULT_CROSSFADE_SECONDS  # a change of scene, 10% to 90%
    scene_on_beat: bool = False  # a change of scene waits for the next beat (2 s at most)
    scene_on_bar: bool = False  # ... for the next bar's first beat of a beat grid (5 s at most)
    scene_mode: SceneMode = SceneMode()
    output_size: int | None = None  # None: the largest that holds fps here (output_size.py)
    feel_strength: float = DEFAULT_FEEL_STRENGTH  # light and colour follow the feel (feel.py)
    # Bring the audio to the level of the music the model was trained on (frontend/level.py):
    # for live inputs, whose level says nothing of the music; files play at their own.
    auto_level: bool = False
    # The show's beat grid (beat_grid.py: Ableton Link's session, a MIDI clock, taps): while it
    # gives a tempo its beats move the picture; None: the music's onsets do.
    beat_grid: BeatGrid | None = None


@dataclass(frozen=True)
class WorkerCommand:
    """A change the GUI asks of a running worker (`FrameWorker.send`), applied by the worker
    thread between frames. `applied_to` gives the settings after it, so the sender can keep
    its own copy for the next worker in step."""

    def applied_to(self, settings: WorkerSettings) -> WorkerSettings:
        return settings


@dataclass(frozen=True)
class ResetAudio(WorkerCommand):
    """Forget the audio so far (a new source or a seek)."""


@dataclass(frozen=True)
class SetReactivity(WorkerCommand):
    value: float

    def applied_to(self, settings: WorkerSettings) -> WorkerSettings:
        return replace(settings, reactivity=self.value)


@dataclass(frozen=True)
class SetCrossfade(WorkerCommand):
    seconds: float

    def applied_to(self, settings: WorkerSettings) -> WorkerSettings:
        return replace(settings, crossfade_seconds=self.seconds)


@dataclass(frozen=True)
class SetSceneOnBeat(WorkerCommand):
    enabled: bool

    def applied_to(self, settings: WorkerSettings) -> WorkerSettings:
        return replace(settings, scene_on_beat=self.enabled)


@dataclass(frozen=True)
class SetSceneOnBar(WorkerCommand):
    enabled: bool

    def applied_to(self, settings: WorkerSettings) -> WorkerSettings:
        return replace(settings, scene_on_bar=self.enabled)


@dataclass(frozen=True)
class SetSceneMode(WorkerCommand):
    mode: SceneMode

    def applied_to(self, settings: WorkerSettings) -> WorkerSettings:
        return replace(settings, scene_mode=self.mode)


@dataclass(frozen=True)
class SetSceneMemory(WorkerCommand):
    seconds: float

    def applied_to(self, settings: WorkerSettings) -> WorkerSettings:
        return replace(settings, scene_memory_seconds=self.seconds)


@dataclass(frozen=True)
class SetAvOffset(WorkerCommand):
    milliseconds: float

    def applied_to(self, settings: WorkerSettings) -> WorkerSettings:
        return replace(settings, av_offset_ms=self.milliseconds)


@dataclass(frozen=True)
class SetFeelStrength(WorkerCommand):
    value: float

    def applied_to(self, settings: WorkerSettings) -> WorkerSettings:
        return replace(settings, feel_strength=self.value)


@dataclass(frozen=True)
class SetAutoLevel(WorkerCommand):
    enabled: bool

    def applied_to(self, settings: WorkerSettings) -> WorkerSettings:
        return replace(settings, auto_level=self.enabled)


@dataclass(frozen=True)
class SetBeatGrid(WorkerCommand):
    grid: BeatGrid | None

    def applied_to(self, settings: WorkerSettings) -> WorkerSettings:
        return replace(settings, beat_grid=self.grid)


@dataclass(frozen=True)
class SetLogFrequency(WorkerCommand):
    enabled: bool

    def applied_to(self, settings: WorkerSettings) -> WorkerSettings:
        return replace(settings, log_frequency=self.enabled)


NON_FINITE_IMAGE = (
    "The generator gives NaN or infinity: its frames are not shown (the model is damaged; "
    "Ctrl+R loads good files)"
)
PICTURE_RESTART_SECONDS = 1.0  # a frame loop stopped by an error starts again this often
NON_FINITE_FEATURE = (
    "The music encoder gives NaN or infinity: the scene keeps the music it had (the model is "
    "damaged; Ctrl+R loads good files)"
)


class FrameWorker(QThread):
    frame_ready = pyqtSignal()
    failed = pyqtSignal(str)  # plain-words message for the window
    recovered = pyqtSignal()  # the models give usable output again after `failed`
    beat = pyqtSignal(float)  # a beat's audio time, as soon as it is found (before its frame)
    error_raised = pyqtSignal(str, object)  # (which part, the exception) for the show's log

    def __init__(
        self,
        runtime: ModelRuntime,
        ring: SampleRing,
        settings: WorkerSettings,
    ):
        super().__init__()
        self.runtime = runtime
        self.ring = ring
        contract = runtime.metadata.frontend
        meta = runtime.metadata
        if settings.scene_memory_seconds is None:
            settings = replace(settings, scene_memory_seconds=meta.scene_memory_seconds)
        self.settings = settings  # what the loop runs with; only the worker replaces it
        self._asked_output_size = settings.output_size  # None: the worker picks and governs
        self._director = SceneDirector.for_model(runtime, settings.scene_memory_seconds)
        self._director.reactivity = settings.reactivity
        self._director.crossfade_seconds = settings.crossfade_seconds
        self._director.mode = settings.scene_mode
        self._director.changes_on_beat = settings.scene_on_beat
        self._director.changes_on_bar = settings.scene_on_bar
        self.rolling = RollingSTFT(contract)
        self._spectrogram = self._spectrogram_layout(settings)
        self._commands: queue.SimpleQueue[WorkerCommand] = queue.SimpleQueue()
        self._scratch = np.empty(ring.capacity, dtype=np.float32)
        # An input opened at its own rate is converted to the models' rate here.
        self.resampler = (
            None
            if ring.sample_rate == contract.sample_rate
            else StreamResampler(ring.sample_rate, contract.sample_rate)
        )
        self._input_level = LevelFollower(contract.hop, contract.sample_rate)
        self._bands = BandMeter(contract.sample_rate, contract.hop)
        self._encoder_input = np.empty(contract.input_shape, dtype=np.float32)
        self._encoder_wake = threading.Event()
        self._encoder_lock = threading.Lock()
        self._encoder_busy = False
        self._encoder_result: tuple[np.ndarray, np.ndarray] | None = None
        self._descriptor_analyser = DescriptorAnalyser(contract)
        self._encoder_descriptors: MusicDescriptors | None = None
        self._feel = FeelFollower()
        self._tempo = TempoFollower()  # the tempo shown, steady through a moment's misreading
        self._grid_beats = None if settings.beat_grid is None else settings.beat_grid.beats()
        self._publish_lock = threading.Lock()
        self._latest: FramePacket | None = None
        self._posted = False
        self._stopping = False
        self._stop_requested = threading.Event()  # wakes a picture waiting to start again
        self._faults: dict[str, str] = {}  # part (encoder, generator) -> what is wrong
        self._fault_lock = threading.Lock()
        self.bad_frames = 0  # generated frames refused for NaN or infinity
        self.dropped_frames = 0
        self.frames_produced = 0
        self.output_governor: OutputGovernor | None = None  # set when the size is the app's pick
        self.encoder_runs = 0
        self.generate_seconds = 0.0

    # Called from the GUI thread.
    def stop(self) -> None:
        self._stopping = True
        self._stop_requested.set()
        self._encoder_wake.set()
        self.wait()

    def send(self, command: WorkerCommand) -> None:
        """Queue `command`; the worker applies it before its next frame."""
        self._commands.put(command)

    def take_latest(self) -> FramePacket | None:
        with self._publish_lock:
            packet, self._latest, self._posted = self._latest, None, False
        return packet

    # Worker side.
    def _spectrogram_layout(self, settings: WorkerSettings) -> SpectrogramImage:
        return SpectrogramImage(
            self.runtime.metadata.frontend,
            settings.spectrogram_columns,
            settings.log_frequency,
            settings.spectrogram_rows,
        )

    def _apply_commands(self) -> bool:
        """Apply the queued commands; True when one of them asked to forget the audio."""
        settings = self.settings
        reset = False
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                break
            reset = reset or isinstance(command, ResetAudio)
            settings = command.applied_to(settings)
        if settings is self.settings:
            return reset
        director = self._director
        director.reactivity = settings.reactivity
        director.crossfade_seconds = settings.crossfade_seconds
        director.changes_on_beat = settings.scene_on_beat
        director.changes_on_bar = settings.scene_on_bar
        director.request_mode(settings.scene_mode, time.perf_counter())
        director.memory.seconds = settings.scene_memory_seconds
        if settings.log_frequency != self.settings.log_frequency:
            self._spectrogram = self._spectrogram_layout(settings)
        if settings.beat_grid is not self.settings.beat_grid:
            grid = settings.beat_grid
            self._grid_beats = None if grid is None else grid.beats()
        self.settings = settings
        return reset

    def _publish(self, packet: FramePacket) -> None:
        with self._publish_lock:
            stale = self._latest
            if stale is not None:
                self.dropped_frames += 1
                if packet.onset_time is None:  # a beat must still reach the screen
                    packet.onset_time = stale.onset_time
                if packet.spectrogram is None and (
                    stale.spectrogram_layout is packet.spectrogram_layout
                ):
                    packet.spectrogram = stale.spectrogram
            self._latest = packet
            notify = not self._posted
            self._posted = True
        if notify:
            self.frame_ready.emit()

    def _report(self, part: str, message: str | None) -> None:
        """Say when `part` starts (message) or stops (None) giving unusable output; the
        window hears only changes."""
        with self._fault_lock:
            if self._faults.get(part) == message:
                return
            if message is None:
                del self._faults[part]
            else:
                self._faults[part] = message
            remaining = "\n".join(self._faults.values())
        if remaining:
            self.failed.emit(remaining)
        else:
            self.recovered.emit()

    def _encode_loop(self) -> None:
        while True:
            self._encoder_wake.wait()
            self._encoder_wake.clear()
            if self._stopping:
                return
            try:
                result, descriptors = self._encode_window()
            except Exception as error:  # noqa: BLE001 - ORT raises many types; the next window is tried
                self.error_raised.emit("the music encoder", error)
                self._report("encoder", f"The music encoder failed: {error}")
                result = descriptors = None
            with self._encoder_lock:
                self._encoder_result = result
                self._encoder_descriptors = descriptors
                self._encoder_busy = False
            self.encoder_runs += 1

    def _encode_window(
        self,
    ) -> tuple[tuple[np.ndarray, np.ndarray] | None, MusicDescriptors]:
        """The encoder's (features, scores) for the window in `_encoder_input`, or None when
        they are not finite, and the window's descriptors."""
        result = self.runtime.encode(self._encoder_input)
        usable = all(np.isfinite(values).all() for values in result)
        self._report("encoder", None if usable else NON_FINITE_FEATURE)
        descriptors = self._descriptor_analyser.describe(self._encoder_input[0])
        return (result if usable else None), descriptors

    def _start_encoding(self) -> None:
        with self._encoder_lock:
            if self._encoder_busy:
                return
            self._encoder_busy = True
        self.rolling.window(self._encoder_input)
        self._encoder_wake.set()

    def _take_encoding(
        self,
    ) -> tuple[tuple[np.ndarray, np.ndarray] | None, MusicDescriptors | None]:
        """The newest (features, scores) and the same window's descriptors, each once."""
        with self._encoder_lock:
            result, self._encoder_result = self._encoder_result, None
            descriptors, self._encoder_descriptors = self._encoder_descriptors, None
        return result, descriptors

    def run(self) -> None:
        encoder = threading.Thread(target=self._encode_loop, name="music-encoder", daemon=True)
        encoder.start()
        try:
            while not self._stopping:
                try:
                    self._frame_loop()
                except Exception as error:  # noqa: BLE001 - shown in the window, never fatal
                    self.error_raised.emit("the picture", error)
                    self._report(
                        "picture",
                        f"The picture stopped: {error}. It starts again every "
                        f"{PICTURE_RESTART_SECONDS:g} s until it runs.",
                    )
                    self._stop_requested.wait(PICTURE_RESTART_SECONDS)
        finally:
            self._stopping = True
            self._encoder_wake.set()
            encoder.join(timeout=5.0)

    def _load_upscaler(self) -> Upscaler:
        """The model directory's upscaler; a bad one is reported and the picture resized."""
        try:
            return load_upscaler(self.runtime.model_dir, final_resize=smooth_resize_rgb8)
        except ModelFileError as error:
            self.failed.emit(f"The upscaler is not used: {error}")
            return Upscaler()

    @property
    def output_size_changes(self) -> int:
        """How often the output size changed while running (0 when a size was asked for)."""
        governor = self.output_governor
        return 0 if governor is None else governor.steps_up + governor.steps_down

    def _start_output(self) -> OutputLevel:
        """The first frames' size and upscaler; when the size is the app's pick, also the
        governor that keeps it right while the app runs (`output_governor`)."""
        upscaler = self._load_upscaler()
        if self._asked_output_size is not None:
            return asked_level(self.runtime.image_size, upscaler, self._asked_output_size)
        levels = output_levels(self.runtime.image_size, upscaler)
        timings = {}
        level = pick_output(self.runtime, levels, self.settings.fps, timings)
        self.settings = replace(self.settings, output_size=level.size)
        self.output_governor = OutputGovernor(levels, level, self.settings.fps, timings)
        return level

    def _frame_loop(self) -> None:
        contract = self.runtime.metadata.frontend
        hop_seconds = contract.frame_seconds
        level = self._start_output()
        governor = self.output_governor
        next_tick = time.perf_counter()
        last_encode = -np.inf
        audio_time: float | None = None
        pending_onset: float | None = None
        tempo_bpm: float | None = None
        tempo_listening = True
        sequence = 0
        while not self._stopping:
            if self._apply_commands():
                self.ring.reset_reader()
                self.rolling.reset()
                if self.resampler is not None:
                    self.resampler.reset()
                self._director.forget_music()
                self._feel.reset()
                self._tempo.reset()
                tempo_bpm, tempo_listening = None, True
                self._input_level.reset()
                self._bands.reset()
                last_encode = -np.inf
            settings = self.settings
            now = time.perf_counter()
            offset = settings.av_offset_ms / 1000.0  # the picture this much after the sound
            count, last_time = self.ring.read_until(now - offset, self._scratch)
            spectrogram = None
            grid_tempo = None
            if self._grid_beats is not None:
                grid = self._grid_beats.read(now - offset)
                grid_tempo = grid.tempo_bpm
                for beat in grid.beats:
                    self._director.on_beat(beat.strength, beat.time + offset, beat.downbeat)
                    pending_onset = beat.time
                    self.beat.emit(beat.time)
            self._director.beats_from_onsets = grid_tempo is None
            if count:
                audio_time = last_time
                samples = self._scratch[:count]
                if self.resampler is not None:
                    samples = self.resampler.process(samples)
                samples = self._input_level.process(
                    samples, self.runtime.metadata.music_level_db if settings.auto_level else None
                )
                self._bands.process(samples)
                new_frames = self.rolling.push(samples)
                if new_frames:
                    onsets = self.rolling.onset()[-min(new_frames, contract.n_frames) :]
                    tail = self.rolling.total_samples % contract.hop  # after the last frame
                    beat = self._director.on_onsets(onsets, now - tail / contract.sample_rate)
                    if beat >= 0 and last_time is not None:
                        # The beat frame's last sample: later frames end one hop each later.
                        frames_after = len(onsets) - 1 - beat
                        pending_onset = last_time - (frames_after * contract.hop + tail) / (
                            contract.sample_rate
                        )
                        self.beat.emit(pending_onset)
                    columns = self.rolling.latest_columns(settings.spectrogram_columns)
                    spectrogram = self._spectrogram.render(columns[0])
            if self.rolling.total_frames and now - last_encode >= 1.0 / settings.encoder_hz:
                last_encode = now
                self._start_encoding()
            encoding, descriptors = self._take_encoding()
            if encoding is not None:
                self._director.on_encoding(*encoding, now)
            if descriptors is not None:
                self._feel.update(descriptors)
                tempo_bpm = self._tempo.update(descriptors.tempo_bpm, now)
                tempo_listening = descriptors.sounding_seconds < MIN_TEMPO_SECONDS
            self._feel.step(now)
            noise, feature = self._director.step(now)
            started = time.perf_counter()
            image = self.runtime.paint(noise, feature, self._feel.target(), settings.feel_strength)
            self.generate_seconds += time.perf_counter() - started
            if not np.isfinite(image).all():
                self.bad_frames += 1
                self._report("generator", NON_FINITE_IMAGE)
                time.sleep(1.0 / settings.fps)
                next_tick = time.perf_counter()
                continue
            self._report("generator", None)
            self._report("picture", None)
            rgb = level.upscaler.upscale(image, level.size)
            frame_work = time.perf_counter() - started
            self._publish(
                FramePacket(
                    sequence=sequence,
                    image=rgb,
                    produced_time=time.perf_counter(),
                    audio_time=audio_time,
                    onset_time=pending_onset,
                    probabilities=self._director.probabilities.copy(),
                    spectrogram=spectrogram,
                    spectrogram_layout=self._spectrogram,
                    scene_mode=self._director.mode,
                    mode_waiting=(
                        self._director.mode.kind != AUTO
                        and not self._director.knows(self._director.mode.category)
                    ),
                    envelope=self._director.envelope,
                    output_size=level.size,
                    upscaling=(
                        level.upscaler.description
                        if level.size > self.runtime.image_size
                        else "the generator's own size"
                    ),
                    arousal=self._feel.arousal,
                    valence=self._feel.valence,
                    tempo_bpm=tempo_bpm if grid_tempo is None else grid_tempo,
                    tempo_listening=tempo_listening and grid_tempo is None,
                    tempo_source=None if grid_tempo is None else settings.beat_grid.name,
                    picture=image,
                    input_meter_db=self._input_level.meter_db,
                    input_level_db=self._input_level.level_db,
                    level_gain_db=self._input_level.gain_db,
                    input_clipping=self._input_level.clipping,
                    pending_mode=self._director.pending_mode,
                    auto_level=settings.auto_level,
                    band_levels_db=tuple(self._bands.levels_db),
                )
            )
            pending_onset = None
            if governor is not None:
                level = governor.record(frame_work)
                if level.size != self.settings.output_size:
                    self.settings = replace(self.settings, output_size=level.size)
            sequence += 1
            self.frames_produced += 1
            next_tick += 1.0 / settings.fps
            delay = next_tick - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            elif delay < -hop_seconds * 4:
                next_tick = time.perf_counter()  # fell behind: do not burst to catch up
