"""Training one judge in the shared StageLoop: checkpoints every epoch, resumable."""

from __future__ import annotations

import logging
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from training.checkpoint import LATEST, load_checkpoint
from training.context import StopFlag
from training.data import ImageBank
from training.distributed import ProcessInfo
from training.judge.augment import augment, cutmix
from training.judge.checkpoint import (
    CHECKPOINT_FILE,
    SINGLE,
    JudgeCheckpointError,
    load_judge,
    save_judge,
)
from training.judge.config import JudgeConfig
from training.judge.distill import judge_loss, teacher_probabilities
from training.judge.models import (
    JudgeEnsemble,
    SceneJudge,
    predict,
    to_model_input,
)
from training.stage_loop import LoopHost, StageLoop
from training.weight_average import EqualWeightAverage, recalibrate_batch_norm
from visualizer.folders import IMAGE_EXTENSIONS, find_category_files
from visualizer.metrics import accuracy_per_category
from visualizer.photos import split_photos

log = logging.getLogger(__name__)


# channels_last: ~5x faster convolutions on CPU here (measured, torch 2.13). Its oneDNN
# backward corrupts memory ("double free or corruption") with 4- and 8-channel layers (seen
# with the tests' tiny judges, torch 2.13.0+cpu as installed 2026-12-02); 16 and more train.
MIN_CHANNELS_LAST_WIDTH = 16


def training_memory_format(config: JudgeConfig) -> torch.memory_format:
    """channels_last when every layer is wide enough for it, else the plain layout."""
    if min(config.widths) >= MIN_CHANNELS_LAST_WIDTH:
        return torch.channels_last
    return torch.contiguous_format


def balanced_indices(labels: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """`count` indices drawn with replacement so that every category is equally likely."""
    frequency = np.bincount(labels)
    weights = 1.0 / frequency[labels]
    return rng.choice(len(labels), size=count, replace=True, p=weights / weights.sum())


def make_optimizer(model: nn.Module, config: JudgeConfig) -> torch.optim.Optimizer:
    if config.optimizer == "sgd":
        return torch.optim.SGD(
            model.parameters(),
            lr=config.lr,
            momentum=0.9,
            nesterov=True,
            weight_decay=config.weight_decay,
        )
    return torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)


def train_judge(
    scenes_root: Path,
    out_dir: Path,
    config: JudgeConfig,
    device: str,
    initial_checkpoint: Path | None = None,
    stop: StopFlag | None = None,
    progress: bool = False,
) -> Path:
    """Train a judge on `scenes_root/<category>/*` photos; write and return out_dir/judge.pt.

    Runs in the shared `StageLoop`: a checkpoint (weights, optimiser, schedule, RNG state and
    this JudgeConfig) after every epoch and when `stop` is requested, which raises
    `TrainingInterrupted`; called again on the same `out_dir` it resumes exactly where it
    stopped. A checkpoint written with another JudgeConfig is refused.

    `initial_checkpoint`: start from that judge's weights (same widths and categories)
    instead of from scratch, e.g. a short low-rate run with milder augmentation after the
    main one.
    """
    scenes_root = Path(scenes_root).resolve()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    found = find_category_files(scenes_root, IMAGE_EXTENSIONS)
    categories = found.categories
    train_items: list[tuple[Path, int]] = []
    validation_items: list[tuple[Path, int]] = []
    for index, name in enumerate(categories):
        train_files, validation_files = split_photos(found.files[name])
        train_items += [(path, index) for path in train_files]
        validation_items += [(path, index) for path in validation_files]

    started = time.monotonic()
    unreadable: list[tuple[Path, str]] = []
    train_set = ImageBank(train_items, config.store_size, unreadable)
    validation_set = ImageBank(validation_items, config.image_size, unreadable)
    held_out_photos = validation_set.relative_paths(scenes_root)
    skipped = [(str(path), reason) for path, reason in found.skipped + unreadable]
    log.info(
        "judge data: %d training, %d held-out photos in %s; %d unreadable skipped (%.0f s)",
        len(train_set.labels),
        len(validation_set.labels),
        dict(zip(categories, np.bincount(train_set.labels).tolist(), strict=True)),
        len(unreadable),
        time.monotonic() - started,
    )
    if len(np.unique(train_set.labels)) < len(categories):
        raise ValueError(f"{scenes_root}: a category has no readable training photo")
    _refuse_other_config(out_dir / LATEST, config)
    soft_targets = None
    if config.teacher is not None:
        soft_targets = teacher_probabilities(
            Path(config.teacher), categories, train_set, held_out_photos
        ).to(device)

    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)  # augmentation and CutMix
    model = SceneJudge(config, len(categories))
    if initial_checkpoint is not None:
        model.load_state_dict(_initial_state(initial_checkpoint, config, categories))
    layout = training_memory_format(config)
    model = model.to(device, memory_format=layout)
    steps_per_epoch = max(1, len(train_set.labels) // config.batch)
    optimizer = make_optimizer(model, config)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=config.lr, total_steps=config.epochs * steps_per_epoch, pct_start=0.2
    )
    stored = to_model_input(train_set.pixels).to(device)  # [N,3,store,store] float, once
    average = EqualWeightAverage()
    epoch_order = np.empty(0, dtype=np.int64)  # this epoch's photos, drawn at its first step
    position = 0  # steps taken in this epoch

    def step(rng: np.random.Generator) -> dict[str, float]:
        nonlocal epoch_order, position
        if position == 0:
            epoch_order = balanced_indices(train_set.labels, steps_per_epoch * config.batch, rng)
        model.train()
        chosen = torch.from_numpy(
            epoch_order[position * config.batch : (position + 1) * config.batch]
        )
        position = (position + 1) % steps_per_epoch
        images = augment(stored[chosen], config, generator)
        labels = torch.from_numpy(train_set.labels[chosen.numpy()]).to(device)
        partner, kept = None, 1.0
        if config.cutmix_probability > 0 and (
            float(torch.rand(1, generator=generator)) < config.cutmix_probability
        ):
            images, partner, kept = cutmix(images, generator)
        logits, _ = model(images.to(device, memory_format=layout))
        soft = None if soft_targets is None else soft_targets[chosen.to(device)]
        loss = kept * judge_loss(logits, labels, soft, config)
        if partner is not None:
            other = partner.to(device)
            loss = loss + (1.0 - kept) * judge_loss(
                logits, labels[other], None if soft is None else soft[other], config
            )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        accuracy = float((logits.argmax(1) == labels).float().mean())
        return {"loss": float(loss.detach()), "train_accuracy": accuracy}

    def end_epoch(epoch: int) -> dict[str, float]:
        if epoch > config.epochs - config.average_epochs:
            average.add(model)
        predictions = predict(model, validation_set.pixels).argmax(1)
        return {"held_out_accuracy": float(np.mean(predictions == validation_set.labels))}

    def state() -> dict[str, Any]:
        return {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "schedule": schedule.state_dict(),
            "augment_rng": generator.get_state(),
            "average": average.state_dict(),
            "epoch_order": epoch_order,
            "position": position,
        }

    def load(saved: dict[str, Any]) -> None:
        nonlocal epoch_order, position
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        schedule.load_state_dict(saved["schedule"])
        generator.set_state(saved["augment_rng"])
        average.load_state_dict(saved["average"], like=model)
        epoch_order, position = saved["epoch_order"], saved["position"]

    host = LoopHost(
        stage="judge",
        folder=out_dir,
        rng=np.random.default_rng(config.seed),
        process=ProcessInfo(rank=0, world_size=1, device=torch.device(device)),
        stop=stop or StopFlag(),
        progress=progress,
        checkpoint_info={"config": asdict(config), "categories": list(categories)},
    )
    loop = StageLoop(host, config.epochs, steps_per_epoch, step, state, load, end_epoch)
    loop.run()

    if average.model is not None:
        model = average.model
        calibration = _calibration_batches(stored, train_set.labels, config, device)
        recalibrate_batch_norm(model, calibration)
    model.cpu().eval()
    predictions = predict(model, validation_set.pixels).argmax(1)
    validation_accuracy = float(np.mean(predictions == validation_set.labels))
    per_category = accuracy_per_category(validation_set.labels, predictions, categories)
    if average.model is not None:
        log.info(
            "judge: the average of the last %d epochs' weights: held-out acc %.3f",
            average.count,
            validation_accuracy,
        )
    info = {
        "config": asdict(config),
        "categories": list(categories),
        "validation_accuracy": validation_accuracy,
        "validation_per_category": per_category,
        "validation_photos": held_out_photos,
        "train_photo_count": len(train_set.labels),
        "skipped": skipped,
        "scenes_root": str(scenes_root),
        "train_seconds": time.monotonic() - started,
    }
    path = out_dir / CHECKPOINT_FILE
    save_judge(path, SINGLE, {"model_state": model.state_dict(), **info})
    log.info(
        "judge: held-out accuracy %.3f %s; wrote %s",
        validation_accuracy,
        {name: round(value, 3) for name, value in per_category.items()},
        path,
    )
    return path


def _refuse_other_config(latest: Path, config: JudgeConfig) -> None:
    """A judge folder resumes only with the JudgeConfig it was started with."""
    if not latest.exists():
        return
    saved = load_checkpoint(latest, "judge")["config"]
    if JudgeConfig.from_dict(saved) != config:
        changed = sorted(key for key, value in asdict(config).items() if saved.get(key) != value)
        raise JudgeCheckpointError(
            f"{latest}: this judge was started with another JudgeConfig (differs in "
            f"{', '.join(changed)}); resume it with the same config or train into a new folder"
        )


def _calibration_batches(
    stored: torch.Tensor, labels: np.ndarray, config: JudgeConfig, device: str
) -> list[tuple[torch.Tensor]]:
    """Augmented, class-balanced training batches (a fixed draw) that re-measure the
    averaged judge's BatchNorm statistics."""
    rng = np.random.default_rng(config.seed + 1)
    generator = torch.Generator().manual_seed(config.seed + 1)
    count = config.average_calibration_batches
    order = balanced_indices(labels, count * config.batch, rng)
    batches = []
    for index in range(count):
        chosen = torch.from_numpy(order[index * config.batch : (index + 1) * config.batch])
        images = augment(stored[chosen], config, generator)
        batches.append((images.to(device, memory_format=training_memory_format(config)),))
    return batches


def _initial_state(
    path: Path, config: JudgeConfig, categories: tuple[str, ...]
) -> dict[str, torch.Tensor]:
    previous, info = load_judge(path)
    if isinstance(previous, JudgeEnsemble):
        raise JudgeCheckpointError(f"{path}: an ensemble; continue from one of its members")
    same = (
        previous.config.widths == config.widths
        and previous.config.blocks_per_stage == config.blocks_per_stage
        and tuple(info["categories"]) == categories
    )
    if not same:
        raise JudgeCheckpointError(
            f"{path}: cannot continue from this judge: its widths, blocks or categories "
            "differ from this run's"
        )
    return previous.state_dict()
