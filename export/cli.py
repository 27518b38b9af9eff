"""`musicscape export --run RUN_DIR --out DIR`: the run's models as ONNX, checked against torch.

Writes music_encoder.onnx, generator.onnx and judge.onnx as visualizer/model_files.py
specifies, each with ModelMetadata.to_props(); each file is exported in its own process and
compared with torch on random and real inputs (max abs difference <= 1e-4, else it fails).
When the run has a trained upscaler (upscaler/upscaler.pt) it also writes upscaler.onnx
(visualizer/upscale.py); `--upscaler-only` writes that file alone. When the run has a
category probe (probe/latest.pt) it is joined inside music_encoder.onnx (export/
probe_export.py); `--probe-only --encoder FILE` joins it to an exported encoder instead.

A run whose GAN took its conditions from an exported music encoder (`gan.encoder_onnx`)
writes generator.onnx alone, with that encoder's metadata (see run_export.py), and copies
music_encoder.onnx, judge.onnx and upscaler.onnx unchanged from the encoder's folder.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from training.config import OUTPUT_FILTERS
from visualizer.scene_memory import DEFAULT_SCENE_MEMORY_SECONDS

if TYPE_CHECKING:
    from export.run_export import GeneratorExportOptions

EXIT_FAILED = 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--run", type=Path, help="training run folder (all but --music-level-only need one)"
    )
    parser.add_argument("--out", type=Path, required=True, help="model folder to write")
    parser.add_argument("--data", type=Path, help="data root (default: the run's)")
    parser.add_argument("--eval-json", type=Path, help="eval figures to store in the metadata")
    parser.add_argument("--model-version", default=None, help="version string (default: run name)")
    parser.add_argument("--no-judge", action="store_true", help="export without judge.onnx")
    parser.add_argument(
        "--upscaler-only",
        action="store_true",
        help="write only upscaler.onnx from the run's upscaler/upscaler.pt (a run that trained "
        "only `--stages upscaler`, or to add the upscaler to a model folder)",
    )
    parser.add_argument(
        "--probe-only",
        action="store_true",
        help="write only music_encoder.onnx: the encoder at --encoder with the run's category "
        "probe (probe/latest.pt, from `--stages probe`) joined after it",
    )
    parser.add_argument(
        "--music-level-only",
        action="store_true",
        help="write only music_encoder.onnx: the encoder at --encoder with the level of the "
        "training tracks its metadata lists (under --data) added to its metadata, for a file "
        "exported before files carried it (the app brings live inputs to that level)",
    )
    parser.add_argument(
        "--encoder",
        type=Path,
        help="with --probe-only: the music_encoder.onnx to add the probe to (trained on the "
        "same tracks as the probe, or on some of them if the probe heard every labelled track); "
        "with --music-level-only: the file to add the level to",
    )
    parser.add_argument(
        "--replace-probe",
        action="store_true",
        help="with --probe-only: take out the category probe --encoder already carries and "
        "join the run's in its place",
    )
    parser.add_argument(
        "--truncation",
        type=float,
        default=1.0,
        help="scale the generator's noise by this (0, 1] inside generator.onnx: lower draws "
        "more typical scenes, less varied ones (the truncation trick; default 1, off)",
    )
    parser.add_argument(
        "--category-pull",
        type=float,
        default=0.0,
        metavar="SHARE",
        help="inside generator.onnx, move the music feature this share [0, 1] of the way "
        "toward the prototype of the category it scores highest against, so the scene "
        "follows the category the app names (default 0, off)",
    )
    parser.add_argument(
        "--output-filter",
        choices=OUTPUT_FILTERS,
        help="a fixed filter after the generator's output in place of the one it was trained "
        "with (it has no weights): diagonal_notch takes out the checkerboard frequency "
        "(default: the checkpoint's)",
    )
    parser.add_argument(
        "--gan-epoch",
        type=int,
        metavar="N",
        help="export the generator saved after GAN epoch N (gan/epoch_NNN.pt; default the "
        "latest): a GAN's quality swings between epochs, so compare a few with eval first",
    )
    parser.add_argument(
        "--scene-memory",
        type=float,
        default=DEFAULT_SCENE_MEMORY_SECONDS,
        metavar="SECONDS",
        help="time constant of the app's scene memory, stored in the metadata: the scene "
        "follows the music averaged over about this long "
        f"(default {DEFAULT_SCENE_MEMORY_SECONDS:g}; 0: every encoder result as it comes)",
    )


def run(args: argparse.Namespace) -> int:
    from export.onnx_export import ExportMismatchError, export_in_subprocess
    from export.run_export import (
        GeneratorExportOptions,
        encoder_onnx_of,
        export_encoder,
        export_generator,
        gan_checkpoint,
        run_metadata,
    )
    from training.checkpoint import LATEST, CheckpointError
    from training.context import read_run_info
    from visualizer.model_files import ENCODER_FILE, GENERATOR_FILE, JUDGE_FILE, ModelFileError
    from visualizer.output_files import output_file_problem

    problem = output_file_problem(args.out / ENCODER_FILE, create_folders=True)
    if problem:
        print(f"musicscape export: --out {args.out}: {problem}", file=sys.stderr)
        return EXIT_FAILED
    if args.music_level_only:
        return _export_music_level(args)
    if args.run is None:
        print("musicscape export: --run RUN_DIR is needed (all but --music-level-only)",
              file=sys.stderr)  # fmt: skip
        return EXIT_FAILED
    if not 0.0 < args.truncation <= 1.0:
        print(f"musicscape export: --truncation must be in (0, 1], got {args.truncation}",
              file=sys.stderr)  # fmt: skip
        return EXIT_FAILED
    if not 0.0 <= args.category_pull <= 1.0:
        print(f"musicscape export: --category-pull must be in [0, 1], got {args.category_pull}",
              file=sys.stderr)  # fmt: skip
        return EXIT_FAILED
    if args.gan_epoch is not None and args.gan_epoch < 1:
        print(f"musicscape export: --gan-epoch must be 1 or more, got {args.gan_epoch}",
              file=sys.stderr)  # fmt: skip
        return EXIT_FAILED
    if not 0.0 <= args.scene_memory < float("inf"):
        print(f"musicscape export: --scene-memory must be a number of seconds >= 0, got "
              f"{args.scene_memory}", file=sys.stderr)  # fmt: skip
        return EXIT_FAILED
    upscaler_checkpoint = args.run / "upscaler" / "upscaler.pt"
    if args.upscaler_only:
        return _export_upscaler(args, upscaler_checkpoint)
    if args.replace_probe and not args.probe_only:
        print("musicscape export: --replace-probe goes with --probe-only", file=sys.stderr)
        return EXIT_FAILED
    if args.probe_only:
        if args.encoder is None:
            print("musicscape export: --probe-only needs --encoder ENCODER.onnx", file=sys.stderr)
            return EXIT_FAILED
        return _export_probe(args, args.encoder)
    options = GeneratorExportOptions(
        args.truncation, args.gan_epoch, args.category_pull, args.output_filter
    )
    try:
        info = read_run_info(args.run)
        eval_figures = json.loads(args.eval_json.read_text()) if args.eval_json else {}
        version = args.model_version or args.run.resolve().name
        data_root = args.data or Path(info["data_root"])
        encoder_path = encoder_onnx_of(gan_checkpoint(args.run, args.gan_epoch), data_root)
        if encoder_path is not None:
            return _export_on_encoder(args, data_root, encoder_path, version, eval_figures, options)
        metadata = run_metadata(
            args.run, data_root, version, eval_figures, args.scene_memory, options
        )
    except (FileNotFoundError, CheckpointError, ValueError) as error:
        print(f"musicscape export: {error}", file=sys.stderr)
        return EXIT_FAILED
    judge_checkpoint = args.run / "judge" / "judge.pt"
    if not args.no_judge and not judge_checkpoint.is_file():
        print(
            f"musicscape export: {judge_checkpoint} is missing; train it with "
            f"`musicscape train --resume {args.run} --stages judge` or pass --no-judge",
            file=sys.stderr,
        )
        return EXIT_FAILED
    props = metadata.to_props()
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        exports = (
            (ENCODER_FILE, export_encoder, (args.gan_epoch,)),
            (GENERATOR_FILE, export_generator, (options,)),
        )
        for name, exporter, extra in exports:
            figures = export_in_subprocess(
                exporter, str(args.run), str(data_root), str(args.out / name), props, *extra
            )
            print(f"{name}: max abs diff vs torch {figures}")
        if not args.no_judge:
            from export.judge_export import export_judge

            difference = export_in_subprocess(
                export_judge, judge_checkpoint, args.out / JUDGE_FILE, props
            )
            print(f"{JUDGE_FILE}: max abs diff vs torch {difference:.3g}")
    except (ExportMismatchError, ModelFileError, CheckpointError) as error:
        print(f"musicscape export: {error}", file=sys.stderr)
        return EXIT_FAILED
    if (args.run / "probe" / LATEST).is_file():
        code = _export_probe(args, args.out / ENCODER_FILE)
        if code:
            return code
    if upscaler_checkpoint.is_file():
        return _export_upscaler(args, upscaler_checkpoint)
    return 0


def _export_on_encoder(
    args: argparse.Namespace,
    data_root: Path,
    encoder_path: Path,
    version: str,
    eval_figures: dict,
    options: GeneratorExportOptions,
) -> int:
    """generator.onnx of a GAN trained on an exported encoder, with that encoder's metadata;
    the encoder's folder's other model files copied unchanged beside it."""
    from export.onnx_export import ExportMismatchError, export_in_subprocess
    from export.run_export import encoder_onnx_metadata, export_generator, gan_checkpoint
    from training.checkpoint import CheckpointError
    from visualizer.model_files import ENCODER_FILE, GENERATOR_FILE, JUDGE_FILE, ModelFileError
    from visualizer.upscale import UPSCALER_FILE

    try:
        metadata = encoder_onnx_metadata(
            encoder_path,
            gan_checkpoint(args.run, options.gan_epoch),
            version,
            eval_figures,
            options,
        )
        args.out.mkdir(parents=True, exist_ok=True)
        figures = export_in_subprocess(
            export_generator,
            str(args.run),
            str(data_root),
            str(args.out / GENERATOR_FILE),
            metadata.to_props(),
            options,
        )
    except (ExportMismatchError, ModelFileError, CheckpointError) as error:
        print(f"musicscape export: {error}", file=sys.stderr)
        return EXIT_FAILED
    print(f"{GENERATOR_FILE}: max abs diff vs torch {figures}")
    # The encoder file itself (whatever its name), then its folder's judge and upscaler.
    copies = {ENCODER_FILE: encoder_path} | {
        name: encoder_path.parent / name for name in (JUDGE_FILE, UPSCALER_FILE)
    }
    for name, source in copies.items():
        if source.is_file() and source.resolve() != (args.out / name).resolve():
            shutil.copyfile(source, args.out / name)
            print(f"{name}: copied unchanged from {source}")
    return 0


def _export_upscaler(args: argparse.Namespace, checkpoint: Path) -> int:
    from export.onnx_export import ExportMismatchError, export_in_subprocess
    from export.upscaler_export import export_upscaler
    from training.checkpoint import CheckpointError
    from visualizer.upscale import UPSCALER_FILE

    if not checkpoint.is_file():
        print(
            f"musicscape export: {checkpoint} is missing; train it with "
            f"`musicscape train --resume {args.run} --stages upscaler`",
            file=sys.stderr,
        )
        return EXIT_FAILED
    version = args.model_version or args.run.resolve().name
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        difference = export_in_subprocess(
            export_upscaler, checkpoint, args.out / UPSCALER_FILE, version
        )
    except (ExportMismatchError, CheckpointError) as error:
        print(f"musicscape export: {error}", file=sys.stderr)
        return EXIT_FAILED
    print(f"{UPSCALER_FILE}: max abs diff vs torch {difference:.3g}")
    return 0


def _export_music_level(args: argparse.Namespace) -> int:
    """OUT/music_encoder.onnx: --encoder with its training tracks' level in its metadata."""
    from export.music_level import write_music_level
    from visualizer.frontend import AudioDecodeError
    from visualizer.model_files import ENCODER_FILE, ModelFileError

    if args.encoder is None:
        print("musicscape export: --music-level-only needs --encoder ENCODER.onnx",
              file=sys.stderr)  # fmt: skip
        return EXIT_FAILED
    try:
        level = write_music_level(args.encoder, args.out / ENCODER_FILE, args.data)
    except (FileNotFoundError, ModelFileError, AudioDecodeError) as error:
        print(f"musicscape export: {error}", file=sys.stderr)
        return EXIT_FAILED
    print(f"{ENCODER_FILE}: the training music's level, {level:g} dB, in its metadata")
    return 0


def _export_probe(args: argparse.Namespace, encoder: Path) -> int:
    """OUT/music_encoder.onnx: `encoder` with the run's category probe joined after it."""
    from export.onnx_export import ExportMismatchError, export_in_subprocess
    from export.probe_export import attach_category_probe
    from training.checkpoint import LATEST, CheckpointError
    from training.context import read_run_info
    from visualizer.model_files import ENCODER_FILE, ModelFileError

    checkpoint = args.run / "probe" / LATEST
    if not checkpoint.is_file():
        print(
            f"musicscape export: {checkpoint} is missing; train it with "
            f"`musicscape train --resume {args.run} --stages probe`",
            file=sys.stderr,
        )
        return EXIT_FAILED
    try:
        data_root = args.data or Path(read_run_info(args.run)["data_root"])
        eval_figures = json.loads(args.eval_json.read_text()) if args.eval_json else None
        args.out.mkdir(parents=True, exist_ok=True)
        figures = export_in_subprocess(
            attach_category_probe,
            str(encoder),
            str(checkpoint),
            str(args.out / ENCODER_FILE),
            str(data_root),
            eval_figures,
            args.replace_probe,
        )
    except (FileNotFoundError, ExportMismatchError, CheckpointError, ModelFileError) as error:
        print(f"musicscape export: {error}", file=sys.stderr)
        return EXIT_FAILED
    print(f"{ENCODER_FILE}: category probe joined; max abs diff vs torch {figures}")
    return 0
