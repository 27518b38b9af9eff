"""Stage checkpoints: models, optimisers, config, RNG state and progress, saved atomically.

Every checkpoint carries the full TrainConfig (as a dict) so a model is rebuilt from the
checkpoint alone; a `config.json` snapshot is written beside it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

LATEST = "latest.pt"
CHECKPOINT_FORMAT = "musicscape-stage-1"


class CheckpointError(ValueError):
    """A checkpoint is missing, unreadable, or from another stage."""


def epoch_file(epoch: int) -> str:
    return f"epoch_{epoch:03d}.pt"


def save_checkpoint(folder: Path, state: dict[str, Any], epoch_done: bool) -> Path:
    """Write `state` as latest.pt (and epoch_NNN.pt after a whole epoch) plus config.json."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    state = {"format": CHECKPOINT_FORMAT, **state}
    temporary = folder / (LATEST + ".tmp")
    torch.save(state, temporary)
    os.replace(temporary, folder / LATEST)
    if epoch_done:
        torch.save(state, folder / epoch_file(state["epoch"]))
    (folder / "config.json").write_text(json.dumps(state["config"], indent=2) + "\n")
    return folder / LATEST


def load_checkpoint(path: Path, stage: str) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint")
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as error:  # torch raises many types for a damaged file
        raise CheckpointError(f"{path}: unreadable checkpoint ({error})") from error
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path}: not a musicscape training checkpoint")
    if state.get("stage") != stage:
        raise CheckpointError(f"{path}: a {state.get('stage')!r} checkpoint, expected {stage!r}")
    return state


def rng_state(rng: np.random.Generator) -> dict[str, Any]:
    return {"numpy": rng.bit_generator.state, "torch": torch.get_rng_state()}


def restore_rng(rng: np.random.Generator, state: dict[str, Any]) -> None:
    rng.bit_generator.state = state["numpy"]
    torch.set_rng_state(state["torch"])
