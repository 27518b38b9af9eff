"""`musicscape render AUDIO -o OUT.mp4`: the live app's picture, offline, as a video.

The same parts as the app's frame worker — the rolling STFT, the scene director, the model
runtime and the upscaler (`visualizer.upscale`, learned when the model directory has one) —
run on a deterministic clock: frame i is shown at i / fps and sees the audio up to that
instant; the encoder runs every 1 / encoder_hz seconds of audio, synchronously, so the same
file, models and seed give the same frames on every run. The video (H.264) and the file's
own audio at its own rate (AAC) are muxed together as they are made
(`visualizer.video_file`), so an interrupted render (Ctrl-C) still closes into a playable
file holding what was rendered so far, in sync.

`--frames DIR` also writes every frame as frame_000000.png ... and frames.json: per frame its
time, how many new analysis (STFT) frames it saw, whether a beat started on it, whether an
encoder result arrived on it and the spectral flux of its newest analysis frame (what
`musicscape bench --motion` measures).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from visualizer.app.beat_grid import steady_beats
from visualizer.app.output_level import dim
from visualizer.app.scene_director import (
    AUTO,
    BIAS,
    DEFAULT_CROSSFADE_SECONDS,
    DEFAULT_REACTIVITY,
    HOLD,
    MAX_CROSSFADE_SECONDS,
    MAX_REACTIVITY,
    MIN_CROSSFADE_SECONDS,
    SceneDirector,
    SceneMode,
)
from visualizer.feel import (
    DEFAULT_FEEL_STRENGTH,
    MAX_FEEL_STRENGTH,
    FeelFollower,
    check_strength,
)
from visualizer.frontend import (
    MAX_SOUND_CHANNELS,
    AudioDecodeError,
    AudioFileReader,
    RollingSTFT,
    open_audio_file,
    stereo_sound,
)
from visualizer.frontend.descriptors import DescriptorAnalyser
from visualizer.options import MAX_FPS, NumericOption, first_problem
from visualizer.resize import MAX_CROP_ASPECT
from visualizer.video_file import H264, VIDEO_CODECS

VIDEO_PRESET = "superfast"  # x264: about twice as fast as veryfast, alike on these pictures
ENCODER_HZ = 4.0  # the app's default (WorkerSettings.encoder_hz)
EXIT_INTERRUPTED = 130
MIN_GRID_BPM = 20.0
MAX_GRID_BPM = 300.0
MIN_SIDE, MAX_SIDE = 16, 4096  # pixels, either side of a rendered frame
NUMERIC_OPTIONS = (
    NumericOption("--fps", 1, MAX_FPS, "frames per second"),
    NumericOption("--reactivity", 0, MAX_REACTIVITY, "(the app's + / - keys)"),
    NumericOption("--feel", 0, MAX_FEEL_STRENGTH, "(0: off)"),
    NumericOption("--crossfade", MIN_CROSSFADE_SECONDS, MAX_CROSSFADE_SECONDS, "seconds"),
    NumericOption("--seed", 0, 2**32 - 1),
    NumericOption("--fade", 0, 60, "seconds"),
    NumericOption("--bpm", MIN_GRID_BPM, MAX_GRID_BPM, "beats per minute"),
    NumericOption("--first-beat", 0, 24 * 3600, "seconds"),
)
EXIT_DAMAGED_AUDIO = 1  # the file broke off partway; the video holds what came before
EXIT_WRITE_FAILED = 1


@dataclass(frozen=True)
class FrameInfo:
    index: int
    time: float  # seconds from the start of the file
    new_analysis_frames: int
    beat: bool  # a beat started on this frame
    encoded: bool  # an encoder result arrived on this frame
    onset: float  # spectral flux of the newest analysis frame so far


def parse_mode(text: str, categories: tuple[str, ...]) -> SceneMode:
    """'auto', 'hold:CAT' or 'bias:CAT', CAT a category name or its number (1 = first)."""
    if text == AUTO:
        return SceneMode()
    kind, _, name = text.partition(":")
    if kind not in (HOLD, BIAS) or not name:
        raise ValueError(f"--mode must be auto, hold:CATEGORY or bias:CATEGORY, got '{text}'")
    if name.isdigit() and 1 <= int(name) <= len(categories):
        return SceneMode(kind, int(name) - 1)
    if name in categories:
        return SceneMode(kind, categories.index(name))
    raise ValueError(
        f"--mode {text}: no category '{name}' in these models (they have "
        f"{', '.join(categories)}, or 1-{len(categories)})"
    )


@dataclass(frozen=True)
class TempoGrid:
    """A steady beat grid for a render (`--bpm`, `--first-beat`): its beats move the picture
    and time its scene changes instead of the music's onsets, as a Link session's do live."""

    bpm: float
    first_beat: float = 0.0  # seconds into the file: a bar's first beat

    @property
    def period_seconds(self) -> float:
        return 60.0 / self.bpm


class OfflinePipeline:
    """The app's analysis and scene direction, fed by a file on a deterministic clock."""

    def __init__(
        self,
        runtime,
        seed: int = 0,
        mode: SceneMode | None = None,
        reactivity: float = DEFAULT_REACTIVITY,
        memory_seconds: float | None = None,
        encoder_hz: float = ENCODER_HZ,
        feel_strength: float = DEFAULT_FEEL_STRENGTH,
        crossfade_seconds: float = DEFAULT_CROSSFADE_SECONDS,
        tempo_grid: TempoGrid | None = None,
    ):
        meta = runtime.metadata
        self.runtime = runtime
        self.contract = meta.frontend
        self.director = SceneDirector.for_model(
            runtime,
            meta.scene_memory_seconds if memory_seconds is None else memory_seconds,
            seed=seed,
        )
        self.director.mode = mode or SceneMode()
        self.director.reactivity = reactivity
        self.director.crossfade_seconds = crossfade_seconds
        self.director.beats_from_onsets = tempo_grid is None
        self.tempo_grid = tempo_grid
        self._last_frame_time = -math.inf
        self.rolling = RollingSTFT(self.contract)
        self.encoder_interval = 1.0 / encoder_hz
        self._window = np.empty(self.contract.input_shape, dtype=np.float32)
        self._last_encode = -math.inf
        self._index = 0
        self.descriptor_analyser = DescriptorAnalyser(self.contract)
        self.feel = FeelFollower()
        self.feel_strength = feel_strength
        check_strength(feel_strength)  # refuses a strength out of range now

    def frame(self, samples: np.ndarray, now: float) -> tuple[np.ndarray, FrameInfo]:
        """Push the samples that arrived since the previous frame; return the generator's
        image for the frame shown at `now` (float [3, S, S] in [-1, 1]) and what it saw."""
        director = self.director
        new_frames = self.rolling.push(samples)
        beat = encoded = False
        if new_frames:
            onsets = self.rolling.onset()[-min(new_frames, self.contract.n_frames) :]
            heard = self.rolling.total_frames * self.contract.hop / self.contract.sample_rate
            beat = director.on_onsets(onsets, heard) >= 0  # the newest frame ended at `heard`
        if self.tempo_grid is not None:  # its beats instead of the music's onsets
            grid = self.tempo_grid
            after = max(self._last_frame_time, -1e-9)  # from 0 s on
            for grid_beat in steady_beats(grid.first_beat, grid.period_seconds, after, now):
                director.on_beat(grid_beat.strength, grid_beat.time)
                beat = True
        self._last_frame_time = now
        due = now - self._last_encode >= self.encoder_interval - 1e-9  # i/fps - j/fps is inexact
        if self.rolling.total_frames and due:
            self._last_encode = now
            self.rolling.window(self._window)
            director.on_encoding(*self.runtime.encode(self._window), now)
            self.feel.update(self.descriptor_analyser.describe(self._window[0]))
            encoded = True
        noise, feature = director.step(now)
        self.feel.step(now)
        image = self.runtime.paint(noise, feature, self.feel.target(), self.feel_strength)
        onset = float(self.rolling.onset()[-1]) if self.rolling.total_frames else 0.0
        info = FrameInfo(self._index, now, new_frames, beat, encoded, onset)
        self._index += 1
        return image, info


class SourceAudio:
    """The file's own audio, at its own rate, in up to two channels, for the video's track."""

    def __init__(self, path: Path):
        self._file = open_audio_file(path)
        self.rate = int(self._file.samplerate)
        self.channels = min(int(self._file.channels), MAX_SOUND_CHANNELS)
        self.position = 0  # samples handed out so far

    def read_until(self, seconds: float) -> np.ndarray:
        """The samples from where the last call stopped up to `seconds`: [n, channels]
        (`stereo_sound`: NaN/inf samples come out as 0, as the analysis decodes them); where
        the file ends early or cannot be decoded the track is silent (the analysis stops the
        render there, naming the damage)."""
        wanted = max(0, round(seconds * self.rate) - self.position)
        try:
            data = self._file.read(wanted, dtype="float32", always_2d=True)
        except RuntimeError:  # libsndfile's and FFmpeg's decoding errors alike
            data = np.zeros((0, self._file.channels), dtype=np.float32)
        self.position += wanted
        if len(data) < wanted:
            data = np.concatenate([data, np.zeros((wanted - len(data), data.shape[1]), np.float32)])
        return stereo_sound(data)

    def close(self) -> None:
        self._file.close()


class Progress:
    """One line on stderr: a bar, the share done, speed against real time and the ETA."""

    def __init__(self, total_seconds: float, stream=sys.stderr, width: int = 30):
        self.total = total_seconds
        self.stream = stream
        self.width = width
        self.started = time.perf_counter()
        self._shown = -math.inf

    def update(self, done_seconds: float, final: bool = False) -> None:
        now = time.perf_counter()
        if not final and now - self._shown < 0.5:
            return
        self._shown = now
        elapsed = max(now - self.started, 1e-9)
        share = min(done_seconds / self.total, 1.0) if self.total > 0 else 1.0
        speed = done_seconds / elapsed
        eta = (self.total - done_seconds) / speed if speed > 0 else math.inf
        filled = round(share * self.width)
        bar = "#" * filled + "." * (self.width - filled)
        eta_text = "--:--" if not math.isfinite(eta) else f"{int(eta) // 60}:{int(eta) % 60:02d}"
        self.stream.write(
            f"\rrender [{bar}] {share * 100:5.1f}%  {done_seconds:6.1f}/{self.total:.1f} s  "
            f"{speed:4.2f}x real time  ETA {eta_text}"
        )
        if final:
            self.stream.write("\n")
        self.stream.flush()


class FrameQueue:
    """Hands frames, in order, to a thread that does the next stage with them (`write`:
    the upscale, or encoding, muxing and PNGs) so that it runs beside the stages before it:
    ONNX Runtime, Pillow and FFmpeg release the GIL, so a 2-core machine works on them at
    once. Bounded, so a slow stage holds the one before it back instead of filling memory."""

    def __init__(self, write, depth: int = 8):
        import queue
        import threading

        self._write = write
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="render-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._write(*item)
                except BaseException as error:  # noqa: BLE001 - re-raised in the producer
                    self._error = error

    def put(self, index: int, shown: np.ndarray) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put((index, shown))

    def close(self) -> None:
        """Write everything queued, stop the thread; raise what writing raised."""
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error


@dataclass
class RenderResult:
    frames: int
    seconds: float  # audio time rendered
    wall_seconds: float
    interrupted: bool
    infos: list[FrameInfo]
    decode_error: str | None = None  # the file broke off here; the video holds what came before
    nonfinite_samples: int = 0  # NaN/inf samples of the file, rendered as silence

    @property
    def speed(self) -> float:
        """Rendered seconds per wall-clock second."""
        return self.seconds / self.wall_seconds if self.wall_seconds > 0 else math.inf


def fade_gains(times: np.ndarray, end: float, fade_seconds: float) -> np.ndarray:
    """The level (0-1) at each of `times` (seconds) of a video that fades in from black
    over `fade_seconds` from 0 and out to black at `end`; all 1 without a fade."""
    if fade_seconds <= 0:
        return np.ones_like(times, dtype=np.float64)
    return np.clip(np.minimum(times, end - times) / fade_seconds, 0.0, 1.0)


def frame_size(text: str) -> tuple[int, int]:
    """`--size`: "512" (square) or "1920x1080", as (width, height); the range is checked by
    `frame_size_problem`."""
    width, _, height = text.lower().partition("x")
    try:
        return int(width), int(height or width)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a size: {text!r} (try 512, or 1920x1080 for the middle of the picture)"
        ) from None


def frame_size_problem(width: int, height: int) -> str | None:
    """Why a rendered frame cannot be `width` x `height`, in words; None when it can."""
    given = str(width) if width == height else f"{width}x{height}"
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
        return f"--size must be {MIN_SIDE}-{MAX_SIDE} pixels, got {given}"
    if width % 2 or height % 2:
        return f"--size must be even (H.264 halves the colour planes), got {given}"
    if max(width / height, height / width) > MAX_CROP_ASPECT:
        return (
            f"--size must be at most {MAX_CROP_ASPECT:g} times as wide as high (or as high "
            f"as wide), got {given}"
        )
    return None


def render(
    runtime,
    audio_path: Path,
    out_path: Path,
    width: int,
    fps: float,
    seed: int = 0,
    mode: SceneMode | None = None,
    reactivity: float = DEFAULT_REACTIVITY,
    feel_strength: float = DEFAULT_FEEL_STRENGTH,
    frames_dir: Path | None = None,
    progress: Progress | None = None,
    max_seconds: float | None = None,
    fade_seconds: float = 0.0,
    crossfade_seconds: float = DEFAULT_CROSSFADE_SECONDS,
    tempo_grid: TempoGrid | None = None,
    codec: str = H264,
    height: int | None = None,
) -> RenderResult:
    """Render `audio_path` to `out_path` in frames `width` pixels wide and `height` high
    (None: square); returns what was rendered (also when interrupted: the file is closed
    and playable either way). A frame of another shape than the square picture holds its
    middle, as a screen the picture fills shows it. With `fade_seconds`, the picture and
    the sound fade in from black and silence at the start and out at the planned end (the
    first and the last frame black)."""
    from PIL import Image

    from visualizer.app.qt_resize import smooth_resize_rgb8
    from visualizer.upscale import load_upscaler
    from visualizer.video_file import VideoFileError, VideoFileWriter

    contract = runtime.metadata.frontend
    height = width if height is None else height
    upscaler = load_upscaler(runtime.model_dir, final_resize=smooth_resize_rgb8)
    reader = AudioFileReader(audio_path, contract.sample_rate)
    audio = SourceAudio(audio_path)
    try:
        if frames_dir is not None:
            frames_dir.mkdir(parents=True, exist_ok=True)
        writer = VideoFileWriter(
            out_path,
            width,
            height,
            fps,
            audio.rate,
            audio.channels,
            preset=VIDEO_PRESET,
            codec=codec,
        )
    except (VideoFileError, OSError):
        reader.close()
        audio.close()
        raise
    duration = reader.duration_seconds
    if max_seconds is not None:
        duration = min(duration, max_seconds)
    total_frames = max(1, math.floor(duration * fps))
    pipeline = OfflinePipeline(
        runtime,
        seed=seed,
        mode=mode,
        reactivity=reactivity,
        feel_strength=feel_strength,
        crossfade_seconds=crossfade_seconds,
        tempo_grid=tempo_grid,
    )

    def write(index: int, shown: np.ndarray) -> None:
        start = audio.position
        sound = audio.read_until((index + 1) / fps)
        if fade_seconds > 0:
            last_frame = (total_frames - 1) / fps
            shown = dim(shown, float(fade_gains(np.float64(index / fps), last_frame, fade_seconds)))
            times = (start + np.arange(len(sound))) / audio.rate
            sound = sound * fade_gains(times, total_frames / fps, fade_seconds)[:, None].astype(
                np.float32
            )
        writer.write_frame(shown)
        writer.write_audio(sound)
        if frames_dir is not None:
            Image.fromarray(shown).save(frames_dir / f"frame_{index:06d}.png", compress_level=1)

    output = FrameQueue(write)

    # The upscale is a stage of its own between the models and the writer: at 128 px and
    # up the learned upscaler costs more than the rest of a frame together.
    upscaling = FrameQueue(
        lambda index, image: output.put(index, upscaler.upscale_middle(image, width, height))
    )
    infos: list[FrameInfo] = []
    read_samples = 0
    interrupted = False
    decode_error = None
    started = time.perf_counter()
    try:
        for index in range(total_frames):
            now = index / fps
            due = math.floor(now * contract.sample_rate)
            try:
                samples = reader.read(due - read_samples)
            except AudioDecodeError as error:
                decode_error = str(error)
                break
            read_samples = due
            image, info = pipeline.frame(samples, now)
            upscaling.put(index, image)
            infos.append(info)
            if progress is not None:
                progress.update((index + 1) / fps)
        else:
            decode_error = reader.cut_short  # a file cut short, said once all it holds was read
    except KeyboardInterrupt:
        interrupted = True
    finally:
        try:
            try:
                upscaling.close()  # upscales and writes what is queued (after Ctrl-C too)
            finally:
                output.close()
        finally:
            writer.close()
            reader.close()
            audio.close()
        if frames_dir is not None:
            with open(frames_dir / "frames.json", "w") as handle:
                json.dump({"fps": fps, "frames": [asdict(info) for info in infos]}, handle)
    wall = time.perf_counter() - started
    if progress is not None:
        progress.update(len(infos) / fps, final=True)
    return RenderResult(
        len(infos),
        len(infos) / fps,
        wall,
        interrupted,
        infos,
        decode_error=decode_error,
        nonfinite_samples=reader.nonfinite_samples,
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("audio", metavar="AUDIO", type=Path, help="the music to render")
    parser.add_argument(
        "-o", "--out", metavar="OUT.mp4", type=Path, required=True, help="the video to write"
    )
    parser.add_argument(
        "--size",
        type=frame_size,
        default=(512, 512),
        metavar="N|WxH",
        help="the frames' size in pixels: N (square, the whole picture; default 512) or WxH, "
        "such as 1920x1080, the middle of the picture as a screen it fills shows it",
    )
    parser.add_argument("--fps", type=float, default=30.0, help="frames per second (default 30)")
    parser.add_argument(
        "--models", metavar="DIR", type=Path, help="model directory (default: assets/models)"
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="the motion's random seed (same seed, same frames)"
    )
    parser.add_argument(
        "--mode",
        default=AUTO,
        metavar="auto|hold:CAT|bias:CAT",
        help="auto: the music chooses the scene; hold:CAT / bias:CAT: hold or bias toward a "
        "category (name or number, 1 = first), as the app's keys 1-9 do (default auto)",
    )
    parser.add_argument(
        "--reactivity",
        type=float,
        default=DEFAULT_REACTIVITY,
        help="how strongly beats move the picture",
    )
    parser.add_argument(
        "--feel",
        type=float,
        default=DEFAULT_FEEL_STRENGTH,
        metavar="STRENGTH",
        help=f"how strongly light and colour follow the music's feel, 0 (off) to "
        f"{MAX_FEEL_STRENGTH:g} (default {DEFAULT_FEEL_STRENGTH:g})",
    )
    parser.add_argument(
        "--crossfade",
        type=float,
        default=DEFAULT_CROSSFADE_SECONDS,
        metavar="SECONDS",
        help="how long a change of scene takes, 10%% to 90%% of the way, as the app's "
        f"Cross-fade box ({MIN_CROSSFADE_SECONDS:g}-{MAX_CROSSFADE_SECONDS:g}, default "
        f"{DEFAULT_CROSSFADE_SECONDS:g})",
    )
    parser.add_argument(
        "--fade",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="fade the picture and the sound in from black at the start and out at the end "
        "over this long (default 0: no fade)",
    )
    parser.add_argument(
        "--codec",
        choices=tuple(VIDEO_CODECS),
        default=H264,
        help="h264 (default; .mp4, .m4v, .mov or .mkv) or prores: Apple ProRes 422, every "
        "frame a key frame, for VJ software that scrubs and loops clips (.mov or .mkv)",
    )
    parser.add_argument(
        "--bpm",
        type=float,
        metavar="BPM",
        help=f"beats on a steady grid at this tempo ({MIN_GRID_BPM:g}-{MAX_GRID_BPM:g}) instead "
        "of the music's onsets, as the app's Link, MIDI clock or taps give them: for a clip "
        "that must sit on a known tempo",
    )
    parser.add_argument(
        "--first-beat",
        type=float,
        metavar="SECONDS",
        help="with --bpm: where a bar's first beat falls, seconds into the file (default 0)",
    )
    parser.add_argument(
        "--frames", metavar="DIR", type=Path, help="also write every frame as PNG into DIR"
    )


def run(args: argparse.Namespace) -> int:
    from visualizer.app.model_runtime import ModelRuntime, default_model_dir
    from visualizer.model_files import ModelFileError
    from visualizer.output_files import output_file_problem
    from visualizer.video_file import VideoFileError

    problem = frame_size_problem(*args.size) or first_problem(args, NUMERIC_OPTIONS)
    if problem is None and args.first_beat is not None and args.bpm is None:
        problem = "--first-beat goes with --bpm"
    if problem is not None:
        print(f"musicscape render: {problem}", file=sys.stderr)
        return 2
    if args.frames is not None:
        problem = output_file_problem(args.frames / "frames.json", create_folders=True)
        if problem:
            print(f"musicscape render: --frames: {problem}", file=sys.stderr)
            return 2
    try:
        runtime = ModelRuntime(args.models or default_model_dir(), intra_op_threads=1)
        mode = parse_mode(args.mode, runtime.metadata.categories)
        reader = AudioFileReader(args.audio, runtime.metadata.frontend.sample_rate)
        duration = reader.duration_seconds
        reader.close()
    except (ModelFileError, AudioDecodeError, ValueError) as error:
        print(f"musicscape render: {error}", file=sys.stderr)
        return 2
    try:
        result = render(
            runtime,
            args.audio,
            args.out,
            args.size[0],
            args.fps,
            seed=args.seed,
            mode=mode,
            reactivity=args.reactivity,
            feel_strength=args.feel,
            crossfade_seconds=args.crossfade,
            frames_dir=args.frames,
            progress=Progress(duration),
            fade_seconds=args.fade,
            tempo_grid=None if args.bpm is None else TempoGrid(args.bpm, args.first_beat or 0.0),
            codec=args.codec,
            height=args.size[1],
        )
    except (ModelFileError, VideoFileError) as error:  # a bad upscaler.onnx or output:
        # refused by render before anything was read or written
        print(f"musicscape render: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # writing failed partway (a full disk, a lost drive)
        print(f"musicscape render: writing {args.out} failed: {error}", file=sys.stderr)
        return EXIT_WRITE_FAILED
    print(
        f"wrote {args.out}: {result.frames} frames, {result.seconds:.1f} s at "
        f"{' x '.join(map(str, args.size))} px, "
        f"{result.speed:.2f}x real time",
        file=sys.stderr,
    )
    if result.nonfinite_samples:
        print(
            f"musicscape render: {args.audio}: {result.nonfinite_samples} samples are NaN or "
            "infinite; they were rendered as silence",
            file=sys.stderr,
        )
    if result.decode_error:
        print(
            f"musicscape render: {result.decode_error}; {args.out} holds the first "
            f"{result.seconds:.1f} s",
            file=sys.stderr,
        )
        return EXIT_DAMAGED_AUDIO
    if result.interrupted:
        print(f"interrupted: {args.out} holds the first {result.seconds:.1f} s", file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0
