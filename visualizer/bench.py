"""`musicscape bench`: times each stage of the pipeline and prints median and p95.

Writes {"stages": {name: {"median_ms", "p95_ms", "runs"}}, "machine": {...}} to --json.
With a model directory (--models, default the bundled assets/models) the stages include
`encoder` and `generator` (ONNX Runtime, one intra-op thread, batch 1), and the upscaling
of one generator image to 256 and 512 px: `resize_<N>` (Pillow bicubic, the fallback) and,
when the folder has upscaler.onnx, `upscaler_<N>_<T>t` (the learned one on T = 1 and 2
ONNX Runtime threads, its output resized to N by Qt as the app and render do), and
`dim_<N>`, the master fader's dimming of an N-px picture. `--app`
also runs the real app headless on a file for --seconds and adds {"app": {...}} (see
visualizer/app/app_bench.py).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable

import numpy as np

from visualizer.frontend import FrontEndContract, RollingSTFT, analyse_window
from visualizer.frontend.bands import BandMeter
from visualizer.frontend.level import LevelFollower
from visualizer.options import MAX_FPS, NumericOption, first_problem
from visualizer.resize import MAX_CROP_ASPECT
from visualizer.video_file import H264, VIDEO_CODECS

BENCH_MUSIC_LEVEL_DB = -17.0  # the level the gain aims at while timed: about the bundled model's


def time_calls(call: Callable[[], object], runs: int, warmup: int = 5) -> dict[str, float]:
    """Run `call` warmup + runs times; return median and 95th percentile of the timed runs."""
    for _ in range(warmup):
        call()
    durations = np.empty(runs)
    for index in range(runs):
        start = time.perf_counter()
        call()
        durations[index] = time.perf_counter() - start
    return summarise(durations)


def summarise(durations: np.ndarray) -> dict[str, float]:
    """Median and 95th percentile (ms) of timed runs, in seconds."""
    return {
        "median_ms": float(np.median(durations) * 1e3),
        "p95_ms": float(np.percentile(durations, 95) * 1e3),
        "runs": len(durations),
    }


def frontend_stages(contract: FrontEndContract, runs: int) -> dict[str, dict[str, float]]:
    """The audio front end: one 512-sample push, one window read, one offline 16-s analysis,
    and the automatic gain and the band meters on one 60-fps frame's samples (368 at 22,050
    Hz)."""
    rng = np.random.default_rng(0)
    signal = (0.1 * rng.standard_normal(contract.window_samples)).astype(np.float32)
    rolling = RollingSTFT(contract)
    rolling.push(signal)
    block = signal[:512].copy()
    window = np.empty(contract.input_shape, dtype=np.float32)
    follower = LevelFollower(contract.hop, contract.sample_rate)
    bands = BandMeter(contract.sample_rate, contract.hop)
    frame_samples = signal[: round(contract.sample_rate / 60)].copy()
    return {
        "auto_level_frame": time_calls(
            lambda: follower.process(frame_samples, BENCH_MUSIC_LEVEL_DB), runs * 10
        ),
        "band_meter_frame": time_calls(lambda: bands.process(frame_samples), runs * 10),
        "stft_push_512": time_calls(lambda: rolling.push(block), runs * 10),
        "stft_window_read": time_calls(lambda: rolling.window(window), runs * 2),
        "stft_offline_16s": time_calls(lambda: analyse_window(signal, contract), runs),
    }


def model_stages(runtime, runs: int) -> dict[str, dict[str, float]]:
    """The ONNX models of `runtime` (a ModelRuntime, best on one thread): one encoder pass
    over a window, one generated frame; and the feel: the descriptors of a window, the
    grade of a frame."""
    from visualizer.feel import (
        AROUSAL_SPREAD,
        DEFAULT_FEEL_STRENGTH,
        VALENCE_SPREAD,
        colour_target,
        grade,
    )
    from visualizer.frontend.descriptors import DescriptorAnalyser

    meta = runtime.metadata
    rng = np.random.default_rng(0)
    window = rng.uniform(-1.0, 1.0, meta.frontend.input_shape).astype(np.float32)
    noise = rng.standard_normal(meta.noise_dim).astype(np.float32)
    feature = rng.standard_normal(meta.feature_dim).astype(np.float32)
    image = runtime.generate(noise, feature)
    target = colour_target(AROUSAL_SPREAD[0] + AROUSAL_SPREAD[1], VALENCE_SPREAD[1])
    descriptors = DescriptorAnalyser(meta.frontend)
    return {
        "encoder": time_calls(lambda: runtime.encode(window), runs),
        "generator": time_calls(lambda: runtime.generate(noise, feature), runs),
        # the feel: per encoder run, and per frame at the default strength
        "descriptors": time_calls(lambda: descriptors.describe(window[0]), runs),
        "feel_grade": time_calls(lambda: grade(image, target, DEFAULT_FEEL_STRENGTH), runs),
    }


UPSCALE_SIZES = (256, 512)
CANVAS_SCREEN = (1920, 1080)  # a projector's or monitor's full HD
KEYSTONE_PIN = ((0.06, 0.0), (0.94, 0.0), (1.0, 1.0), (0.0, 1.0))  # a projector tilted up
DIM_SIZES = (512, 1024)  # output sides the master fader and blackout dim while below full


def output_level_stages(runs: int) -> dict[str, dict[str, float]]:
    """`dim_<N>`: an N-px RGB picture at half level (`visualizer/app/output_level.py`), the
    cost per frame while the master or a blackout fade is below full (none at full)."""
    from functools import partial

    from visualizer.app.output_level import dim

    rng = np.random.default_rng(0)
    return {
        f"dim_{side}": time_calls(
            partial(dim, rng.integers(0, 256, (side, side, 3), dtype=np.uint8), 0.5), runs
        )
        for side in DIM_SIZES
    }


def stage_light_stages(runs: int) -> dict[str, dict[str, float]]:
    """`dmx_lights_1024`: the stage lights' channels of a 1024-px picture
    (`visualizer/app/dmx_output.py`), what the GUI thread computes 40 times a second while
    DMX out is on."""
    from functools import partial

    from visualizer.app.dmx_output import light_channels

    picture = np.random.default_rng(0).integers(0, 256, (1024, 1024, 3), dtype=np.uint8)
    return {
        "dmx_lights_1024": time_calls(
            partial(light_channels, picture, 0.5, 1, (0.75, 0.5, 0.25)), runs
        ),
        f"dmx_desk_read_{DESK_DATAGRAMS}": desk_read_figures(runs),
    }


DESK_DATAGRAMS = 64  # a busy Art-Net network's 25 ms: 63 other universes' ArtDMX and the desk's


def desk_read_figures(runs: int) -> dict[str, float]:
    """`dmx_desk_read_64`: one of DMX in's reads (`visualizer/app/dmx_input.py`, on the GUI
    thread 40 times a second) with DESK_DATAGRAMS full ArtDMX datagrams waiting on its
    socket, the last the desk's universe; the datagrams are sent before each timed read."""
    import socket

    from visualizer.app.dmx_input import DeskPatch, DmxInput
    from visualizer.app.dmx_output import ARTNET, artdmx_packet

    datagrams = [artdmx_packet(universe, 1, bytes(512)) for universe in range(1, DESK_DATAGRAMS)]
    datagrams.append(artdmx_packet(0, 1, bytes(range(256)) * 2))
    dmx_in = DmxInput(DeskPatch(ARTNET, 0, 1), port=0)
    durations = np.empty(runs)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as network:
        network.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
        try:
            for index in range(runs):
                for datagram in datagrams:
                    network.sendto(datagram, ("127.0.0.1", dmx_in.port))
                start = time.perf_counter()
                levels = dmx_in.read()
                durations[index] = time.perf_counter() - start
                if levels != bytes(range(8)):
                    raise RuntimeError("the desk's levels did not come through")
        finally:
            dmx_in.close()
    return summarise(durations)


def canvas_stages(runs: int) -> dict[str, dict[str, float]]:
    """The canvas's work for a 1024-px picture on a 1920 x 1080 screen, on the GUI thread
    (`visualizer/app/scene_canvas.py`): taking a frame in (its 32-bit copy, `canvas_image`),
    and painting it (`paint_picture`) as made, turned a quarter, mirrored, and pinned
    (KEYSTONE_PIN), into a QImage as the widget's backing store is; and a 256-px picture
    pinned, which is mapped small and then enlarged (`pin_reduction`)."""
    from PyQt6.QtGui import QImage, QPainter

    from visualizer.app.canvas_orientation import CanvasOrientation
    from visualizer.app.corner_pin import CornerPin
    from visualizer.app.scene_canvas import canvas_image, paint_picture

    pixels = np.random.default_rng(0).integers(0, 256, (1024, 1024, 3), np.uint8)
    pictures = {1024: canvas_image(pixels), 256: canvas_image(pixels[::4, ::4].copy())}
    screen = QImage(*CANVAS_SCREEN, QImage.Format.Format_RGB32)

    def paint(orientation: CanvasOrientation, pin: CornerPin, size: int) -> None:
        painter = QPainter(screen)
        paint_picture(painter, pictures[size], *CANVAS_SCREEN, orientation, False, pin)
        painter.end()

    keystone = CornerPin(KEYSTONE_PIN)
    return {
        "canvas_frame_in": time_calls(lambda: canvas_image(pixels), runs),
        **{
            f"canvas_{name}": time_calls(lambda layout=layout: paint(*layout), runs)
            for name, layout in (
                ("as_made", (CanvasOrientation(), CornerPin(), 1024)),
                ("turned_90", (CanvasOrientation(90), CornerPin(), 1024)),
                ("mirrored", (CanvasOrientation(0, True), CornerPin(), 1024)),
                ("pinned", (CanvasOrientation(), keystone, 1024)),
                ("pinned_256", (CanvasOrientation(), keystone, 256)),
            )
        },
    }


def upscaler_stages(model_dir, runs: int, image_size: int) -> dict[str, dict[str, float]]:
    """One generator-sized image (`image_size`, the generator's own side) to each of
    UPSCALE_SIZES: resized, and learned on 1 and 2 threads when `model_dir` holds
    upscaler.onnx (the model enlarges any input size by its scale, so a 128-px picture
    costs it four times a 64-px one)."""
    from functools import partial

    from visualizer.app.qt_resize import smooth_resize_rgb8
    from visualizer.upscale import load_upscaler

    def image(side: int) -> np.ndarray:
        return np.random.default_rng(0).uniform(-1.0, 1.0, (3, side, side)).astype(np.float32)

    fallback = load_upscaler(None)
    stages = {
        f"resize_{size}": time_calls(partial(fallback.upscale, image(image_size), size), runs)
        for size in UPSCALE_SIZES
    }
    for threads in (1, 2):
        upscaler = load_upscaler(model_dir, threads=threads, final_resize=smooth_resize_rgb8)
        if not upscaler.learned:
            break
        scene = image(image_size)
        for size in UPSCALE_SIZES:
            stages[f"upscaler_{size}_{threads}t"] = time_calls(
                partial(upscaler.upscale, scene, size), runs
            )
    return stages


def machine_summary() -> dict[str, object]:
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "numpy": np.__version__,
    }


def _bundled_models():
    from visualizer.app.model_runtime import default_model_dir

    return default_model_dir()


def print_figures(prefix: str, figures: dict[str, object]) -> None:
    """One line per figure, `prefix.name: value` (floats to two decimals)."""
    for name, value in figures.items():
        shown = f"{value:.2f}" if isinstance(value, float) else value
        print(f"{prefix}.{name}: {shown}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", metavar="OUT", help="write the figures to this JSON file")
    parser.add_argument("--runs", type=int, default=200, help="timed runs per stage (default 200)")
    parser.add_argument(
        "--models", metavar="DIR", help="model directory (default: the bundled assets/models)"
    )
    parser.add_argument(
        "--app", action="store_true", help="also run the real app headless on a file"
    )
    parser.add_argument(
        "--seconds", type=float, default=10.0, help="how long --app runs (default 10)"
    )
    parser.add_argument(
        "--osc-beats",
        action="store_true",
        help="also run the app headless with --osc-out to a receiver on loopback and time "
        "each beat from its audio time to its arrival ('vj' extra)",
    )
    parser.add_argument(
        "--recording",
        action="store_true",
        help="also run the app headless --seconds without, then --seconds while recording, "
        "and report the live frame rate of each and the recording's dropped frames",
    )
    parser.add_argument(
        "--record-codec",
        choices=tuple(VIDEO_CODECS),
        default=H264,
        help="what --recording records as (default h264; prores: Apple ProRes 422)",
    )
    parser.add_argument(
        "--record-aspect",
        metavar="W:H",
        type=aspect_ratio,
        default=None,
        help="the shape --recording records, as a canvas filling a screen of that shape "
        "crops the picture (16:9, 4:3 or a number; default: as the headless canvas shows "
        "it, square)",
    )
    parser.add_argument(
        "--file", metavar="AUDIO", help="music for --app (default: a synthetic beat track)"
    )
    parser.add_argument(
        "--soak",
        metavar="MINUTES",
        type=float,
        help="also run the app this long on the looping demo clip, reporting RSS and CPU "
        "every minute and the RSS growth rate",
    )
    parser.add_argument(
        "--motion",
        action="store_true",
        help="render the demo clips (or --file) at 60 fps with --frames and measure how the "
        "picture moves (visualizer/motion.py)",
    )
    parser.add_argument(
        "--fps",
        type=float,
        default=60.0,
        help="the display rate the app runs at for --app, as the app's --fps (default 60)",
    )
    parser.add_argument(
        "--size",
        type=int,
        default=None,
        help="output size in pixels: of the app's frames for --app (default: the largest that "
        "holds the display rate, as the app picks it), of the frames --motion renders "
        "(default 64)",
    )


def aspect_ratio(text: str) -> float:
    """`--record-aspect`: "16:9" or a number, a width by a height within MAX_CROP_ASPECT
    either way (the crop's limit, `visualizer.resize`)."""
    try:
        width, _, height = text.partition(":")
        aspect = float(width) / float(height) if height else float(width)
    except (ValueError, ZeroDivisionError):
        raise argparse.ArgumentTypeError(f"not a shape: {text!r} (try 16:9)") from None
    if not 1.0 / MAX_CROP_ASPECT <= aspect <= MAX_CROP_ASPECT:  # nan too
        raise argparse.ArgumentTypeError(
            f"{text!r} is outside 1:{MAX_CROP_ASPECT:g} ... {MAX_CROP_ASPECT:g}:1"
        )
    return aspect


NUMERIC_OPTIONS = (
    NumericOption("--runs", 1, 100_000),
    NumericOption("--seconds", 0.5, 24 * 3600),
    NumericOption("--soak", 1, 7 * 24 * 60, "minutes"),
    NumericOption("--size", 16, 4096, "pixels"),
    NumericOption("--fps", 1, MAX_FPS, "frames per second"),
)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from visualizer.cli import missing_extra
    from visualizer.model_files import ModelFileError
    from visualizer.output_files import output_file_problem

    problem = first_problem(args, NUMERIC_OPTIONS)
    if problem is None and args.json:
        problem = output_file_problem(Path(args.json), create_folders=False)
        problem = problem and f"--json: cannot write {args.json}: {problem}"
    if problem:
        print(f"musicscape bench: {problem}", file=sys.stderr)
        return 2
    contract = FrontEndContract()
    stages = frontend_stages(contract, args.runs)
    stages.update(output_level_stages(args.runs))
    stages.update(stage_light_stages(args.runs))
    stages.update(canvas_stages(args.runs))
    report: dict[str, object] = {"stages": stages, "machine": machine_summary()}
    model_dir = Path(args.models) if args.models else _bundled_models()
    no_runtime = missing_extra("musicscape bench", "cpu", ("onnxruntime",))
    if no_runtime and args.app:
        print(no_runtime, file=sys.stderr)
        return 2
    if no_runtime:
        report["models_error"] = no_runtime
        print(
            f"{no_runtime} (timing the front end, the dimming, the lights and the canvas only)",
            file=sys.stderr,
        )
    else:
        try:
            from visualizer.app.model_runtime import ModelRuntime

            runtime = ModelRuntime(model_dir, intra_op_threads=1)
            stages.update(model_stages(runtime, args.runs))
            stages.update(upscaler_stages(model_dir, args.runs, runtime.image_size))
        except ModelFileError as error:
            report["models_error"] = str(error)
            print(f"models not timed: {error}", file=sys.stderr)
    width = max(len(name) for name in stages)
    for name, figures in stages.items():
        print(
            f"{name:<{width}}  median {figures['median_ms']:8.3f} ms   "
            f"p95 {figures['p95_ms']:8.3f} ms   runs {figures['runs']}"
        )
    if args.app:
        from visualizer.app.app_bench import run_app_bench

        app = run_app_bench(model_dir, args.seconds, args.file, args.size, args.fps)
        report["app"] = app
        print_figures("app", app)
    if args.osc_beats:
        from visualizer.app.osc_bench import run_osc_bench

        osc = run_osc_bench(model_dir, args.seconds, args.file)
        report["osc"] = osc
        print_figures("osc", osc)
    if args.recording:
        from visualizer.app.record_bench import run_record_bench

        recording = run_record_bench(
            model_dir, args.seconds, args.file, args.record_codec, args.record_aspect
        )
        report["record"] = recording
        print_figures("record", recording)
    if args.soak is not None:
        from visualizer.app.app_bench import run_soak
        from visualizer.bundled import assets_dir

        soak = run_soak(model_dir, assets_dir() / "demo", args.soak)
        report["soak"] = soak
        growth = soak["rss_growth_mb_per_hour"]
        print(
            "soak.rss_growth: "
            + ("needs 3 minutes or more" if growth is None else f"{growth:.2f} MB/h")
            + f" over {soak['samples'][-1]['minute']:.1f} min"
        )
    if args.motion:
        from visualizer.bundled import assets_dir
        from visualizer.motion import run_motion_bench

        files = [Path(args.file)] if args.file else sorted((assets_dir() / "demo").glob("*.ogg"))
        motion = run_motion_bench(model_dir, files, args.size or 64, 60.0)
        report["motion"] = motion
        for name, figures in motion.items():
            print(f"motion.{name}: " + "  ".join(f"{k} {v:.3g}" for k, v in figures.items()))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(report, handle, indent=2)
        print(f"wrote {args.json}", file=sys.stderr)
    return 0
