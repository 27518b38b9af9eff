"""The epoch/step loop every stage shares: progress bar with ETA, TensorBoard, checkpoints
each epoch, exact resume (RNG and position saved), and a checkpoint on Ctrl-C."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from training.checkpoint import LATEST, load_checkpoint, restore_rng, rng_state, save_checkpoint
from training.context import RunContext, StopFlag, TrainingInterrupted
from training.distributed import ProcessInfo, any_rank, gather_objects

log = logging.getLogger(__name__)


@dataclass
class LoopHost:
    """What a StageLoop needs from the run around it."""

    stage: str  # the stage's name, stored in and checked against its checkpoints
    folder: Path  # checkpoints and TensorBoard logs go here
    rng: np.random.Generator  # the stage's sampling RNG, saved and restored with it
    process: ProcessInfo
    stop: StopFlag
    progress: bool
    # Stored in every checkpoint beside the stage's own state (config, categories).
    checkpoint_info: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def for_run(cls, ctx: RunContext, stage: str) -> LoopHost:
        return cls(
            stage=stage,
            folder=ctx.stage_dir(stage),
            rng=ctx.rank_rng(stage),
            process=ctx.process,
            stop=ctx.stop,
            progress=ctx.progress,
            checkpoint_info={
                "config": ctx.config.to_dict(),
                "categories": list(ctx.split.categories),
            },
        )


class StageLoop:
    """Runs `step(rng) -> figures` for epochs x steps; `state()`/`load(state)` cover the models
    and optimisers, `end_epoch(epoch) -> figures` evaluates and writes samples (main rank)."""

    def __init__(
        self,
        host: LoopHost,
        epochs: int,
        steps_per_epoch: int,
        step: Callable[[np.random.Generator], dict[str, float]],
        state: Callable[[], dict[str, Any]],
        load: Callable[[dict[str, Any]], None],
        end_epoch: Callable[[int], dict[str, float]],
    ):
        self.host = host
        self.stage = host.stage
        self.epochs = epochs
        self.steps_per_epoch = steps_per_epoch
        self.step = step
        self.state = state
        self.load = load
        self.end_epoch = end_epoch
        self.folder = host.folder
        self.history: list[dict[str, float]] = []

    def _save(self, rng: np.random.Generator, epoch: int, step: int, epoch_done: bool) -> None:
        states = gather_objects(self.host.process, rng_state(rng))
        if not self.host.process.is_main:
            return
        save_checkpoint(
            self.folder,
            {
                "stage": self.stage,
                **self.host.checkpoint_info,
                "epoch": epoch,
                "step": step,
                "rng": states,
                "history": self.history,
                **self.state(),
            },
            epoch_done,
        )

    def run(self) -> Path:
        host = self.host
        rng = host.rng
        epoch, step = 0, 0
        latest = self.folder / LATEST
        if latest.exists():
            saved = load_checkpoint(latest, self.stage)
            self.load(saved)
            epoch, step = saved["epoch"], saved["step"]
            self.history = list(saved["history"])
            restore_rng(rng, saved["rng"][host.process.rank])
            log.info("%s: resuming at epoch %d, step %d", self.stage, epoch + 1, step)
        writer = None
        if host.process.is_main:
            from torch.utils.tensorboard import SummaryWriter

            writer = SummaryWriter(str(self.folder / "tensorboard"))
        total = self.epochs * self.steps_per_epoch
        bar = tqdm(
            total=total,
            initial=epoch * self.steps_per_epoch + step,
            desc=self.stage,
            disable=not (host.progress and host.process.is_main),
            dynamic_ncols=True,
        )
        try:
            while epoch < self.epochs:
                started = time.monotonic()
                sums: dict[str, float] = {}
                counted = 0
                while step < self.steps_per_epoch:
                    if any_rank(host.process, host.stop.requested):
                        self._save(rng, epoch, step, epoch_done=False)
                        raise TrainingInterrupted(
                            f"{self.stage}: interrupted at epoch {epoch + 1} step {step}; "
                            f"checkpoint saved in {self.folder}"
                        )
                    figures = self.step(rng)
                    step += 1
                    counted += 1
                    bar.update(1)
                    bar.set_postfix({k: f"{v:.3f}" for k, v in list(figures.items())[:3]})
                    for key, value in figures.items():
                        sums[key] = sums.get(key, 0.0) + value
                    if writer is not None:
                        global_step = epoch * self.steps_per_epoch + step
                        for key, value in figures.items():
                            writer.add_scalar(f"{self.stage}/step/{key}", value, global_step)
                summary = {key: value / max(counted, 1) for key, value in sums.items()}
                epoch += 1
                step = 0
                if host.process.is_main:
                    summary.update(self.end_epoch(epoch))
                    summary["epoch"] = epoch
                    summary["seconds"] = time.monotonic() - started
                    for key, value in summary.items():
                        writer.add_scalar(f"{self.stage}/epoch/{key}", value, epoch)
                    log.info(
                        "%s epoch %d/%d: %s (%.0f s)",
                        self.stage,
                        epoch,
                        self.epochs,
                        ", ".join(
                            f"{k} {v:.4g}"
                            for k, v in summary.items()
                            if k not in ("epoch", "seconds")
                        ),
                        summary["seconds"],
                    )
                self.history.append(summary)
                self._save(rng, epoch, 0, epoch_done=True)
        finally:
            bar.close()
            if writer is not None:
                writer.close()
        return self.folder / LATEST
