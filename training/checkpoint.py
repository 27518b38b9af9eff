"""Stage checkpoints: models, optimisers, config, RNG state and progress, saved atomically.

Every checkpoint carries the full TrainConfig (as a dict) so a model is rebuilt from the
checkpoint alone; a `config.json` snapshot is written beside it.

Checkpoints are read with torch's weights-only unpickler: tensors, plain containers and
numbers, and numpy arrays (the judge's epoch order); a file holding anything else (a pickle
can run code) is refused, never executed. Writes go to a temporary file renamed over the
target; a full disk is named as such and leaves no temporary file behind.
"""

from __future__ import annotations

import errno
import io
import json
import os
import pickle
import re
from pathlib import Path
from typing import Any

import numpy as np
import torch

LATEST = "latest.pt"
CHECKPOINT_FORMAT = "musicscape-stage-1"


# What a numeric numpy array pickles as; weights-only loading refuses every global not listed.
NUMPY_ARRAY_GLOBALS = [
    np._core.multiarray._reconstruct,
    np.ndarray,
    np.dtype,
    np.dtypes.BoolDType,
    np.dtypes.Int32DType,
    np.dtypes.Int64DType,
    np.dtypes.Float32DType,
    np.dtypes.Float64DType,
]


class CheckpointError(ValueError):
    """A checkpoint is missing, unreadable, unsafe, from another stage, or cannot be written."""


def epoch_file(epoch: int) -> str:
    return f"epoch_{epoch:03d}.pt"


def write_atomically(path: Path, data: bytes | memoryview) -> None:
    """Write `data` to `path` through a temporary file renamed over it. Raises
    CheckpointError (saying "no space left on <folder>" for a full disk) and removes the
    temporary file when the write fails; a file already at `path` is then untouched."""
    path = Path(path)
    temporary = path.with_name(path.name + ".tmp")
    try:
        with open(temporary, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            raise CheckpointError(
                f"no space left on {path.parent}: {path.name} ({len(data) / 1e6:.1f} MB) was "
                "not written"
            ) from error
        raise CheckpointError(f"{path}: cannot write it ({error.strerror})") from error


def save_torch_file(path: Path, state: dict[str, Any]) -> None:
    """torch.save `state` to `path` atomically (see write_atomically)."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    write_atomically(path, buffer.getbuffer())


def load_torch_file(path: Path) -> Any:
    """torch.load `path` with the weights-only unpickler (numpy arrays allowed); raises
    CheckpointError for a missing, damaged or unsafe file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint")
    try:
        with torch.serialization.safe_globals(NUMPY_ARRAY_GLOBALS):
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        named = re.search(r"GLOBAL (\S+)|but got (<[^>]+>)", str(error))
        found = f": {named.group(1) or named.group(2)}" if named else ""
        raise CheckpointError(
            f"{path}: refused: it holds Python objects other than tensors, numbers and arrays"
            f"{found} (loading them could run code)"
        ) from error
    except Exception as error:  # torch raises many types for a damaged file
        raise CheckpointError(f"{path}: unreadable checkpoint ({error})") from error


def save_checkpoint(folder: Path, state: dict[str, Any], epoch_done: bool) -> Path:
    """Write `state` as latest.pt (and epoch_NNN.pt after a whole epoch) plus config.json."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    state = {"format": CHECKPOINT_FORMAT, **state}
    save_torch_file(folder / LATEST, state)
    if epoch_done:
        save_torch_file(folder / epoch_file(state["epoch"]), state)
    write_atomically(
        folder / "config.json", (json.dumps(state["config"], indent=2) + "\n").encode()
    )
    return folder / LATEST


def load_checkpoint(path: Path, stage: str) -> dict[str, Any]:
    path = Path(path)
    state = load_torch_file(path)
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
