"""`musicscape train`: the embedding, GAN, judge and upscaler stages, in order, each also alone.

Torch is imported only inside `run`. Under torchrun (several processes) the process group
is joined first and every rank trains; only rank 0 writes logs, samples and checkpoints.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
from pathlib import Path

STAGES = ("pretrain", "embed", "probe", "gan", "judge", "upscaler")
DEFAULT_STAGES = "embed,probe,gan"
JUDGE_CONFIG_FILE = "judge_config.json"
UPSCALER_CONFIG_FILE = "upscaler_config.json"
EXIT_INTERRUPTED = 130
EXIT_FAILED = 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data", type=Path, help="folder with scenes/<category>/ and music/<category>/"
    )
    parser.add_argument("--out", type=Path, help="run folder to create (checkpoints, logs)")
    parser.add_argument("--resume", type=Path, help="continue the run in this folder")
    parser.add_argument(
        "--stages",
        help=f"comma list of pretrain,embed,probe,gan,judge,upscaler (default {DEFAULT_STAGES}; "
        "with --resume, the stages the run was started with)",
    )
    parser.add_argument("--epochs-embed", type=int, help="embedding epochs")
    parser.add_argument("--epochs-gan", type=int, help="GAN epochs")
    parser.add_argument(
        "--lr-decay-epochs-gan",
        type=int,
        metavar="N",
        help="let the GAN's learning rate down linearly over its last N epochs (0: constant); "
        "with --resume and --epochs-gan, a run trained at a constant rate goes on with a decay",
    )
    parser.add_argument(
        "--grow-gan-from",
        type=Path,
        metavar="CHECKPOINT",
        help="start the GAN from this gan checkpoint of a run at half the image size (and "
        "twice the base channels), grown to this run's size without changing what it draws; "
        "or from an exported generator.onnx (G grown from the file's at half the size, taken "
        "as it is at this size; D from random weights: see gan.discriminator_warmup_epochs); "
        "a new run only",
    )
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--config", type=Path, help="JSON TrainConfig (overrides the defaults)")
    parser.add_argument(
        "--judge-config",
        type=Path,
        help="JSON JudgeConfig for the judge stage; a JSON list of them trains an ensemble",
    )
    parser.add_argument(
        "--upscaler-config",
        type=Path,
        help="JSON UpscalerConfig for the upscaler stage (overrides the defaults)",
    )
    parser.add_argument(
        "--cache-dir", type=Path, help="feature cache (default ~/.cache/musicscape)"
    )
    parser.add_argument("--loss", choices=("dssje", "infonce"), help="joint embedding loss")
    parser.add_argument("--seed", type=int, help="seed for splits, sampling and weights")
    parser.add_argument(
        "--cv",
        type=int,
        metavar="K",
        help="track-grouped K-fold cross-validation over every labelled track, pooled "
        "figures in <out>/cv.json: with --stages embed, the embedding trained per fold "
        "(<out>/fold_<f>/); with --stages pretrain, linear probes on the pretrained encoder "
        "(frozen), a random one and a spectral summary",
    )
    parser.add_argument(
        "--cv-folds",
        metavar="F[,F...]",
        help="with --cv K --stages embed: train and score only these folds (0 to K-1), to run "
        "folds side by side (one process per core, --threads 1 each, the same --out); a "
        "run without --cv-folds then finds them finished and writes cv.json",
    )
    parser.add_argument(
        "--cv-epoch",
        type=int,
        metavar="N",
        help="with --cv K --stages embed: train nothing, score every fold's checkpoint of "
        "epoch N (each epoch is kept) into <out>/cv_epoch_<NNN>.json, to compare "
        "checkpoints by cross-validation",
    )
    parser.add_argument(
        "--cv-draws",
        type=int,
        default=1,
        metavar="N",
        help="with --cv K --stages pretrain: deal the tracks into K folds N times (seeds "
        "data.seed, which --seed sets, then data.seed + 1, ...) and write each deal's "
        "pooled accuracy and their mean and spread into cv.json beside the first deal's "
        "figures (default 1); on a few dozen tracks the deal alone moves the accuracy by "
        "several points",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument(
        "--threads",
        type=int,
        help="CPU threads for torch (default: torch's choice); give each concurrent run its "
        "share of the cores: oversubscribed runs slow each other down several times over",
    )


def _config(args, resumed: dict | None):
    from training.config import TrainConfig

    if resumed is not None:
        config = TrainConfig.from_dict(resumed["config"])
    elif args.config is not None:
        try:
            config = TrainConfig.from_dict(json.loads(args.config.read_text()))
        except (OSError, ValueError, TypeError) as error:
            raise ValueError(f"--config {args.config}: {error}") from error
    else:
        config = TrainConfig()
    if args.epochs_embed is not None:
        config = dataclasses.replace(
            config, embed=dataclasses.replace(config.embed, epochs=args.epochs_embed)
        )
    if args.grow_gan_from is not None and resumed is not None:
        raise ValueError("--grow-gan-from starts a new run; a resumed run goes on as it was")
    if args.grow_gan_from is not None and not args.grow_gan_from.is_file():
        raise ValueError(f"--grow-gan-from {args.grow_gan_from}: no such file")
    gan_overrides = {
        field: value
        for field, value in (
            ("epochs", args.epochs_gan),
            ("lr_decay_epochs", args.lr_decay_epochs_gan),
            ("grow_from", args.grow_gan_from and str(args.grow_gan_from.resolve())),
        )
        if value is not None
    }
    if gan_overrides:  # one replace: the pair is checked together, not one against the old other
        config = dataclasses.replace(config, gan=dataclasses.replace(config.gan, **gan_overrides))
    if args.loss is not None:
        config = dataclasses.replace(
            config, embed=dataclasses.replace(config.embed, loss=args.loss)
        )
    if args.seed is not None and resumed is None:
        config = dataclasses.replace(
            config, seed=args.seed, data=dataclasses.replace(config.data, seed=args.seed)
        )
    return config


def _judge_stage(ctx, judge_config_path: Path | None, device: str) -> Path:
    """Train the judge; a JSON list of JudgeConfigs trains each into judge/member_<i>/ and
    combines them into one ensemble judge/judge.pt. The configs used are recorded in
    judge/judge_config.json, so `--resume` continues with them."""
    from training.judge.config import JudgeConfig
    from training.judge.ensemble import combine_judges
    from training.judge.trainer import train_judge

    scenes, folder = ctx.data_root / "scenes", ctx.stage_dir("judge")
    recorded = folder / JUDGE_CONFIG_FILE
    if judge_config_path is not None:
        values = json.loads(judge_config_path.read_text())
    elif recorded.is_file():
        values = json.loads(recorded.read_text())
    else:
        values = dataclasses.asdict(JudgeConfig(image_size=ctx.config.gan.generator.image_size))
    folder.mkdir(parents=True, exist_ok=True)
    recorded.write_text(json.dumps(values, indent=2) + "\n")

    def train(out_dir: Path, config: dict) -> Path:
        judge_config = JudgeConfig.from_dict(config)
        return train_judge(
            scenes, out_dir, judge_config, device, stop=ctx.stop, progress=ctx.progress
        )

    if isinstance(values, dict):
        return train(folder, values)
    members = [train(folder / f"member_{index}", member) for index, member in enumerate(values)]
    return combine_judges(members, folder)


def _upscaler_stage(ctx, upscaler_config_path: Path | None) -> Path:
    """Train the learned upscaler on the run's photos into upscaler/; the config used is
    recorded in upscaler/upscaler_config.json, so `--resume` continues with it."""
    from training.upscaler import STAGE, UpscalerConfig, train_upscaler

    folder = ctx.stage_dir(STAGE)
    recorded = folder / UPSCALER_CONFIG_FILE
    if upscaler_config_path is not None:
        values = json.loads(upscaler_config_path.read_text())
    elif recorded.is_file():
        values = json.loads(recorded.read_text())
    else:
        values = {}
    config = UpscalerConfig.from_dict(values)
    folder.mkdir(parents=True, exist_ok=True)
    recorded.write_text(json.dumps(dataclasses.asdict(config), indent=2) + "\n")
    return train_upscaler(
        ctx.data_root / "scenes", folder, config, stop=ctx.stop, progress=ctx.progress
    )


def run(args: argparse.Namespace) -> int:
    import torch

    from training import distributed
    from training.checkpoint import CheckpointError
    from training.context import RunContext, TrainingInterrupted, read_run_info
    from training.data import split_data
    from training.embed_stage import run_embed_stage
    from training.feature_cache import FeatureCache
    from training.gan_growth import GrowthError
    from training.gan_stage import StageOrderError, run_gan_stage
    from training.pretrain_stage import run_pretrain_stage
    from training.probe_stage import run_probe_stage
    from visualizer.folders import DataLayoutError
    from visualizer.frontend import FrontEndContract
    from visualizer.output_files import output_file_problem

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    stages = [s.strip() for s in (args.stages or DEFAULT_STAGES).split(",") if s.strip()]
    if args.cv is not None and (
        args.cv < 2 or stages not in (["embed"], ["pretrain"]) or args.resume is not None
    ):
        print(
            "musicscape train: --cv K needs K >= 2, --stages embed or pretrain, and --out (a "
            "stopped cross-validation resumes when started again with the same --out)",
            file=sys.stderr,
        )
        return 2
    try:
        only_folds = tuple(int(f) for f in (args.cv_folds or "").split(",") if f.strip())
    except ValueError:
        only_folds = None
    if args.cv_folds is not None and (
        args.cv is None
        or stages != ["embed"]
        or not only_folds
        or not 0 <= min(only_folds) <= max(only_folds) < args.cv
    ):
        print(
            f"musicscape train: --cv-folds {args.cv_folds} needs --cv K --stages embed and "
            f"folds from 0 to K-1",
            file=sys.stderr,
        )
        return 2
    if args.cv_epoch is not None and (args.cv is None or stages != ["embed"] or args.cv_epoch < 1):
        print(
            f"musicscape train: --cv-epoch {args.cv_epoch} needs --cv K --stages embed and an "
            f"epoch from 1",
            file=sys.stderr,
        )
        return 2
    if args.cv_draws != 1 and (args.cv is None or stages != ["pretrain"] or args.cv_draws < 1):
        print(
            f"musicscape train: --cv-draws {args.cv_draws} needs --cv K --stages pretrain and "
            f"a number of deals from 1",
            file=sys.stderr,
        )
        return 2
    resumed = None
    if args.resume is not None:
        run_dir = args.resume
        try:
            resumed = read_run_info(run_dir)
        except FileNotFoundError as error:
            print(f"musicscape train: {error}", file=sys.stderr)
            return 2
        data_root = Path(resumed["data_root"]) if args.data is None else args.data
        contract = FrontEndContract.from_dict(resumed["frontend"])
        if args.stages is None and resumed.get("stages"):
            stages = list(resumed["stages"])
    else:
        if args.data is None or args.out is None:
            print("musicscape train: needs --data and --out (or --resume RUN_DIR)", file=sys.stderr)
            return 2
        run_dir, data_root, contract = args.out, args.data, FrontEndContract()
    unknown = [s for s in stages if s not in STAGES]
    if unknown:
        print(f"musicscape train: unknown stages {unknown} (choose from {STAGES})", file=sys.stderr)
        return 2
    if args.device == "cuda" and not torch.cuda.is_available():
        print("musicscape train: --device cuda but torch sees no GPU", file=sys.stderr)
        return 2
    if args.threads is not None:
        if args.threads < 1:
            print(f"musicscape train: --threads must be >= 1, got {args.threads}", file=sys.stderr)
            return 2
        torch.set_num_threads(args.threads)
    for option in ("epochs_embed", "epochs_gan"):
        value = getattr(args, option)
        if value is not None and value < 1:
            flag = "--" + option.replace("_", "-")
            print(f"musicscape train: {flag} must be at least 1, got {value}", file=sys.stderr)
            return 2
    try:
        config = _config(args, resumed)
    except (ValueError, TypeError) as error:
        print(f"musicscape train: {error}", file=sys.stderr)
        return 2
    if config.deterministic:
        torch.use_deterministic_algorithms(True)
    process = distributed.start(args.device)
    try:
        split = split_data(data_root, config.data)
    except DataLayoutError as error:
        print(f"musicscape train: {error}", file=sys.stderr)
        distributed.stop(process)
        return 2
    cache_dir = args.cache_dir or Path.home() / ".cache" / "musicscape" / "features"
    cache_problem = output_file_problem(cache_dir / "features.npz", create_folders=True)
    if cache_problem:
        print(f"musicscape train: --cache-dir {cache_dir}: {cache_problem}", file=sys.stderr)
        distributed.stop(process)
        return 2
    try:
        if run_dir.exists() and not run_dir.is_dir():
            raise NotADirectoryError(f"{run_dir} is a file, not a run folder")
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        print(f"musicscape train: --out: {error}", file=sys.stderr)
        distributed.stop(process)
        return 2
    handler = None
    if process.is_main:
        handler = logging.FileHandler(run_dir / "train.log")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logging.getLogger().addHandler(handler)
    ctx = RunContext(
        run_dir=run_dir,
        data_root=data_root,
        config=config,
        contract=contract,
        split=split,
        cache=FeatureCache(cache_dir, contract),
        process=process,
        progress=not args.no_progress,
        stages=tuple(stages),
    )
    ctx.stop.install()
    log = logging.getLogger("training")
    if process.is_main:
        ctx.write_run_info()
    try:
        if args.cv is not None:
            from training.embed_cv import run_embed_cv, run_pretrain_cv

            if args.cv_folds is not None:
                run_embed_cv(ctx, args.cv, only_folds, args.cv_epoch)
                log.info(
                    "cv folds %s scored; run again without --cv-folds to pool every fold",
                    ", ".join(map(str, only_folds)),
                )
                return 0
            if stages == ["embed"]:
                figures = run_embed_cv(ctx, args.cv, epoch=args.cv_epoch)
            else:
                figures = run_pretrain_cv(ctx, args.cv, args.cv_draws)
            for name, values in figures.items():
                log.info(
                    "cv %s: accuracy %.3f (folds %.3f +- %.3f), per category %s",
                    name,
                    values["accuracy"],
                    values["fold_mean"],
                    values["fold_std"],
                    {
                        key: round(value, 3)
                        for key, value in values["per_category_accuracy"].items()
                    },
                )
                if "draws" in values:
                    log.info(
                        "cv %s over %d deals of the folds: accuracy %.3f +- %.3f, through the "
                        "scene memory %.3f +- %.3f",
                        name,
                        len(values["draws"]),
                        values["draws_accuracy"]["mean"],
                        values["draws_accuracy"]["std"],
                        values["draws_memory_accuracy"]["mean"],
                        values["draws_memory_accuracy"]["std"],
                    )
            return 0
        for stage in stages:
            if stage == "pretrain":
                run_pretrain_stage(ctx)
            elif stage == "embed":
                run_embed_stage(ctx)
            elif stage == "probe" and process.is_main:
                run_probe_stage(ctx)
            elif stage == "gan":
                run_gan_stage(ctx)
            elif stage == "judge" and process.is_main:
                _judge_stage(ctx, args.judge_config, args.device)
            elif stage == "upscaler" and process.is_main:
                _upscaler_stage(ctx, args.upscaler_config)
            if process.is_main:
                ctx.write_run_info()
        log.info(
            "done: %s; %d files skipped; feature cache %d hits, %d misses",
            ",".join(stages),
            len(split.skipped),
            ctx.cache.hits,
            ctx.cache.misses,
        )
        return 0
    except TrainingInterrupted as error:
        log.warning("%s", error)
        if process.is_main:
            ctx.write_run_info()
        return EXIT_INTERRUPTED
    except (
        StageOrderError,
        GrowthError,
        DataLayoutError,
        CheckpointError,
        FileNotFoundError,
        RuntimeError,
    ) as error:
        print(f"musicscape train: {error}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        if handler is not None:
            logging.getLogger().removeHandler(handler)
            handler.close()
        distributed.stop(process)


def main(argv: list[str] | None = None) -> int:
    """Entry point for `python -m training.cli` (what torchrun starts)."""
    parser = argparse.ArgumentParser(prog="musicscape train")
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
