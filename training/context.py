"""What every training stage shares: the run folder, config, data split, device, stop flag."""

from __future__ import annotations

import json
import logging
import signal
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from training.config import TrainConfig
from training.data import DataSplit
from training.distributed import ProcessInfo
from training.feature_cache import FeatureCache
from visualizer.frontend import FrontEndContract

log = logging.getLogger(__name__)

RUN_INFO = "run.json"


class TrainingInterrupted(RuntimeError):
    """Ctrl-C arrived; the stage saved a checkpoint and stopped."""


@dataclass
class StopFlag:
    """Set by SIGINT; stages check it between steps, save, and stop."""

    requested: bool = False

    def install(self) -> None:
        def handler(signum, frame):
            if self.requested:
                raise KeyboardInterrupt
            log.warning("interrupt: saving a checkpoint after this step (Ctrl-C again to abort)")
            self.requested = True

        signal.signal(signal.SIGINT, handler)


@dataclass
class RunContext:
    run_dir: Path
    data_root: Path
    config: TrainConfig
    contract: FrontEndContract
    split: DataSplit
    cache: FeatureCache
    process: ProcessInfo
    stop: StopFlag = field(default_factory=StopFlag)
    progress: bool = True
    # The stages this run trains, in order; recorded in run.json, so `--resume` without
    # `--stages` continues them and no others.
    stages: tuple[str, ...] = ()

    def stage_dir(self, stage: str) -> Path:
        return self.run_dir / stage

    def rank_rng(self, stage: str) -> np.random.Generator:
        """The stage's sampling RNG for this rank (restored from a checkpoint on resume)."""
        stage_number = {"embed": 1, "gan": 2, "pretrain": 3}[stage]
        return np.random.default_rng([self.config.seed, stage_number, self.process.rank])

    def write_run_info(self) -> None:
        info = {
            "data_root": str(self.data_root),
            "stages": list(self.stages),
            "config": self.config.to_dict(),
            "frontend": self.contract.to_dict(),
            "data": self.split.summary(),
            "skipped": [[str(path), reason] for path, reason in self.split.skipped],
            "cache": {"hits": self.cache.hits, "misses": self.cache.misses},
        }
        (self.run_dir / RUN_INFO).write_text(json.dumps(info, indent=2) + "\n")


def read_run_info(run_dir: Path) -> dict:
    path = Path(run_dir) / RUN_INFO
    if not path.is_file():
        raise FileNotFoundError(f"{run_dir}: not a training run folder (no {RUN_INFO})")
    return json.loads(path.read_text())
