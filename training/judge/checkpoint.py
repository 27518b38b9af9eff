"""judge.pt: one trained judge or an ensemble of them, with its held-out photo list."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from training.checkpoint import CHECKPOINT_FORMAT, CheckpointError, load_checkpoint, save_torch_file
from training.judge.config import JudgeConfig
from training.judge.models import JudgeEnsemble, SceneJudge
from visualizer.photos import HELD_OUT_SHARE, SPLIT_SEED

CHECKPOINT_FILE = "judge.pt"
# judge.pt is a training checkpoint (training/checkpoint.py) of its own stage name: the
# trainer's resumable latest.pt and epoch files in the same folder are stage "judge".
JUDGE_FILE_STAGE = "judge_model"
SINGLE, ENSEMBLE = "judge", "ensemble"  # its "kind": one SceneJudge, or combine_judges'


class JudgeCheckpointError(CheckpointError):
    """A readable judge checkpoint that cannot serve here (other held-out photos, an ensemble
    where one judge is needed, another JudgeConfig); load_checkpoint refuses unreadable ones."""


def load_judge(path: Path) -> tuple[SceneJudge | JudgeEnsemble, dict[str, Any]]:
    """(model in eval mode, info: everything stored except the weights, plus "split": the
    photo split's seed and held-out share)."""
    saved = load_checkpoint(Path(path), JUDGE_FILE_STAGE)
    n_categories = len(saved["categories"])

    def member(config: dict[str, Any], state: dict[str, torch.Tensor]) -> SceneJudge:
        model = SceneJudge(JudgeConfig.from_dict(config), n_categories)
        model.load_state_dict(state)
        return model

    if saved["kind"] == SINGLE:
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


def save_judge(path: Path, kind: str, payload: dict[str, Any]) -> None:
    """Write judge.pt: `payload` (weights, config, categories, held-out photos, figures) in
    the training checkpoint format."""
    save_torch_file(
        path, {"format": CHECKPOINT_FORMAT, "stage": JUDGE_FILE_STAGE, "kind": kind, **payload}
    )
