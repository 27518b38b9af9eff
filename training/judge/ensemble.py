"""Several trained judges combined into one ensemble checkpoint."""

from __future__ import annotations

import logging
from dataclasses import asdict
from pathlib import Path

import numpy as np

from training.data import ImageBank
from training.judge.checkpoint import (
    CHECKPOINT_FILE,
    ENSEMBLE,
    JudgeCheckpointError,
    load_judge,
    same_split,
    save_judge,
)
from training.judge.models import JudgeEnsemble, predict
from visualizer.metrics import accuracy_per_category

log = logging.getLogger(__name__)


def combine_judges(checkpoints: list[Path], out_dir: Path) -> Path:
    """Combine trained judges (same categories and held-out photos) into one ensemble
    checkpoint out_dir/judge.pt, measured on those held-out photos; returns its path."""
    loaded = [load_judge(path) for path in checkpoints]
    first = loaded[0][1]
    for (model, info), path in zip(loaded, checkpoints, strict=True):
        if isinstance(model, JudgeEnsemble):
            raise JudgeCheckpointError(f"{path}: already an ensemble; combine its members")
        if not same_split(info, first["categories"], first["validation_photos"]):
            raise JudgeCheckpointError(
                f"{path}: its categories or held-out photos differ from {checkpoints[0]}'s "
                "(train every member on the same scenes)"
            )
    ensemble = JudgeEnsemble([model for model, _ in loaded]).eval()
    categories = tuple(first["categories"])
    scenes_root = Path(first["scenes_root"])
    photos = first["validation_photos"]
    labelled = [(scenes_root / photo, categories.index(photo.split("/")[0])) for photo in photos]
    unreadable: list[tuple[Path, str]] = []
    held_out = ImageBank(labelled, ensemble.image_size, unreadable)
    if unreadable:
        raise JudgeCheckpointError(f"held-out photo unreadable now: {unreadable[0][1]}")
    predictions = predict(ensemble, held_out.pixels).argmax(1)
    accuracy = float(np.mean(predictions == held_out.labels))
    per_category = accuracy_per_category(held_out.labels, predictions, categories)
    saved = {
        "members": [
            {"config": asdict(model.config), "model_state": model.state_dict()}
            for model in ensemble.members
        ],
        "member_accuracies": [info["validation_accuracy"] for _, info in loaded],
        "categories": list(categories),
        "validation_accuracy": accuracy,
        "validation_per_category": per_category,
        "validation_photos": photos,
        "train_photo_count": first["train_photo_count"],
        "skipped": first["skipped"],
        "scenes_root": first["scenes_root"],
        "train_seconds": sum(info["train_seconds"] for _, info in loaded),
        "split": first["split"],
    }
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / CHECKPOINT_FILE
    save_judge(path, ENSEMBLE, saved)
    log.info(
        "judge ensemble of %d: held-out accuracy %.3f (members %s) %s; wrote %s",
        len(loaded),
        accuracy,
        [round(value, 3) for value in saved["member_accuracies"]],
        {name: round(value, 3) for name, value in per_category.items()},
        path,
    )
    return path
