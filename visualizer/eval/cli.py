"""`musicscape eval`: measure an exported model directory on folders of music (ONNX only)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from visualizer.eval.config import MAX_SAMPLE_SIZE
from visualizer.feel import MAX_FEEL_STRENGTH
from visualizer.options import NumericOption, first_problem

EXIT_FAILED = 1
NUMERIC_OPTIONS = (
    NumericOption("--draws", 1, 10_000, "per window"),
    NumericOption("--centroid-draws", 1, 100_000, "per category"),
    NumericOption("--seed", 0, 2**32 - 1),
    NumericOption("--scene-memory", 0, 3600, "seconds (0: each window alone)"),
    NumericOption("--feel", 0, MAX_FEEL_STRENGTH, "(0: off)"),
    NumericOption("--threads", 0, 1024, "(0: ONNX Runtime's choice)"),
    NumericOption("--sample-size", 1, MAX_SAMPLE_SIZE, "pixels"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--models", type=Path, required=True, help="exported model directory (ONNX files)"
    )
    parser.add_argument(
        "--music",
        type=Path,
        nargs="+",
        required=True,
        help="one or more folders of <category>/<track> audio files",
    )
    parser.add_argument("--json", type=Path, help="write every figure to this JSON file")
    parser.add_argument(
        "--samples",
        type=Path,
        help="write a PNG of generated images: one row per category, 8 of its windows",
    )
    parser.add_argument(
        "--sample-size",
        type=int,
        metavar="N",
        help="each --samples picture at N pixels, as the app shows it at that size (through "
        "the directory's upscaler.onnx, else a bicubic resize; default: the generator's size)",
    )
    parser.add_argument(
        "--scenes",
        type=Path,
        help="folder of <category>/<photo> real photos, for diversity and fid_judge "
        "(the judge's held-out photos are used when its metadata lists them)",
    )
    parser.add_argument(
        "--subset",
        choices=("all", "train", "validation"),
        default="all",
        help="which tracks: all, or those the encoder's metadata lists as train/validation",
    )
    parser.add_argument(
        "--draws", type=int, default=4, help="generated images per window (default 4)"
    )
    parser.add_argument(
        "--centroid-draws",
        type=int,
        default=256,
        help="generated images per category mean feature (default 256)",
    )
    parser.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    parser.add_argument(
        "--scene-memory",
        type=float,
        metavar="SECONDS",
        help="time constant of the scene memory the windows are read through "
        "(default: the model's, as the app uses it; 0: each window alone)",
    )
    parser.add_argument(
        "--feel",
        type=float,
        default=0.5,
        metavar="STRENGTH",
        help="feel strength the feel figures are measured at, 0-1 (default 0.5, the app's)",
    )
    parser.add_argument(
        "--threads", type=int, default=0, help="ONNX Runtime threads (default: its own choice)"
    )
    parser.add_argument(
        "--input-levels",
        type=float,
        nargs="+",
        metavar="DB",
        help="instead of the other figures: how the scene moves when each track comes at "
        "these gains (dB, as a microphone may hear it), with and without the app's auto level "
        "(visualizer/eval/input_level.py)",
    )
    parser.add_argument("--verbose", action="store_true", help="log every track")


def run(args: argparse.Namespace) -> int:
    from visualizer.eval.config import EvalConfig, EvaluationError
    from visualizer.eval.evaluate import evaluate
    from visualizer.eval.report import format_summary, write_json
    from visualizer.folders import DataLayoutError
    from visualizer.model_files import ModelFileError
    from visualizer.output_files import output_file_problem, picture_format

    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s"
    )
    problem = first_problem(args, NUMERIC_OPTIONS)
    if problem:
        print(f"musicscape eval: {problem}", file=sys.stderr)
        return EXIT_FAILED
    for option, path in (("--json", args.json), ("--samples", args.samples)):
        problem = path and output_file_problem(path, create_folders=True)
        if option == "--samples" and path and not problem and not picture_format(path):
            problem = f"Pillow writes no picture format named '{path.suffix}' (use .png)"
        if problem:
            print(f"musicscape eval: {option}: cannot write {path}: {problem}", file=sys.stderr)
            return EXIT_FAILED
    if args.input_levels:
        return _run_input_levels(args)
    try:
        config = EvalConfig(
            draws_per_window=args.draws,
            centroid_draws=args.centroid_draws,
            seed=args.seed,
            threads=args.threads,
            scene_memory_seconds=args.scene_memory,
            feel_strength=args.feel,
            sample_size=args.sample_size,
        )
        result = evaluate(args.models, args.music, args.scenes, args.subset, config, args.samples)
    except (ModelFileError, DataLayoutError, EvaluationError, ValueError) as error:
        print(f"musicscape eval: {error}", file=sys.stderr)
        return EXIT_FAILED
    print(format_summary(result))
    if args.samples is not None:
        print(f"\nwrote {args.samples}")
    if args.json is not None:
        write_json(result, args.json)
        print(f"\nwrote {args.json}")
    return 0


def _run_input_levels(args: argparse.Namespace) -> int:
    from visualizer.eval.config import EvaluationError
    from visualizer.eval.input_level import format_input_levels, input_level_figures
    from visualizer.eval.model_set import load_model_set
    from visualizer.eval.report import write_json
    from visualizer.eval.tracks import select_tracks
    from visualizer.folders import DataLayoutError
    from visualizer.model_files import ModelFileError

    try:
        models = load_model_set(args.models, args.threads)
        tracks = []
        for folder in args.music:
            found, _ = select_tracks(folder, models, args.subset)
            tracks += found
        figures = input_level_figures(tracks, models, args.input_levels)
    except (ModelFileError, DataLayoutError, EvaluationError, ValueError) as error:
        print(f"musicscape eval: {error}", file=sys.stderr)
        return EXIT_FAILED
    print(format_input_levels(figures))
    if args.json is not None:
        write_json({"input_levels": figures}, args.json)
        print(f"\nwrote {args.json}")
    return 0
