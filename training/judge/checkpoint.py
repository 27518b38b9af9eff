"""judge.pt: one trained judge or an ensemble of them, with its held-out photo list."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from training.checkpoint import CheckpointError
from training.judge.config import JudgeConfig
from training.judge.models import JudgeEnsemble, SceneJudge
from visualizer.photos import HELD_OUT_SHARE, SPLIT_SEED

CHECKPOINT_FILE = "judge.pt"
CHECKPOINT_FORMAT = 1  # one SceneJudge
ENSEMBLE_FORMAT = 2  # a JudgeEnsemble written by combine_judges


class JudgeCheckpointError(CheckpointError):
    """A judge checkpoint is missing, unreadable or not a judge checkpoint."""


def load_judge(path: Path) -> tuple[SceneJudge | JudgeEnsemble, dict[str, Any]]:
    """(model in eval mode, info: everything stored except the weights, plus "split": the
    photo split's seed and held-out share)."""
    path = Path(path)
    if not path.is_file():
        raise JudgeCheckpointError(f"{path}: no such judge checkpoint")
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for a damaged file
        raise JudgeCheckpointError(f"{path}: unreadable judge checkpoint ({error})") from error
    if not isinstance(saved, dict) or saved.get("format") not in (
        CHECKPOINT_FORMAT,
        ENSEMBLE_FORMAT,
    ):
        raise JudgeCheckpointError(f"{path}: not a musicscape judge checkpoint")
    n_categories = len(saved["categories"])

    def member(config: dict[str, Any], state: dict[str, torch.Tensor]) -> SceneJudge:
        model = SceneJudge(JudgeConfig.from_dict(config), n_categories)
        model.load_state_dict(state)
        return model

    if saved["format"] == CHECKPOINT_FORMAT:
        info = {key: value for key, value in saved.items() if key != "model_state"}
        model = member(info["config"], saved["model_state"])
        info["split"] = {"seed": SPLIT_SEED, "validation_fraction": HELD_OUT_SHARE}
        return model.eval(), info
    info = {key: value for key, value in saved.items() if key != "members"}
    ensemble = JudgeEnsemble([member(m["config"], m["model_state"]) for m in saved["members"]])
    return ensemble.eval(), info


def same_split(info: dict[str, Any], categories: list[str], held_out_photos: list[str]) -> bool:
    """Whether a loaded judge (`info` from `load_judge`) has these categories and held out
    exactly these photos."""
    return info["categories"] == categories and info["validation_photos"] == held_out_photos
