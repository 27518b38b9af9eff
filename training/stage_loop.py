"""The epoch/step loop every stage shares: progress bar with ETA, TensorBoard, checkpoints
each epoch, exact resume (RNG and position saved), and a checkpoint on Ctrl-C."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from training.checkpoint import LATEST, load_checkpoint, restore_rng, rng_state, save_checkpoint
from training.context import RunContext, TrainingInterrupted
from training.distributed import any_rank, gather_objects

log = logging.getLogger(__name__)


class StageLoop:
    """Runs `step(rng) -> figures` for epochs x steps; `state()`/`load(state)` cover the models
    and optimisers, `end_epoch(epoch) -> figures` evaluates and writes samples (main rank)."""

    def __init__(
        self,
        ctx: RunContext,
        stage: str,
        epochs: int,
        steps_per_epoch: int,
        step: Callable[[np.random.Generator], dict[str, float]],
        state: Callable[[], dict[str, Any]],
        load: Callable[[dict[str, Any]], None],
        end_epoch: Callable[[int], dict[str, float]],
    ):
        self.ctx = ctx
        self.stage = stage
        self.epochs = epochs
        self.steps_per_epoch = steps_per_epoch
        self.step = step
        self.state = state
        self.load = load
        self.end_epoch = end_epoch
        self.folder = ctx.stage_dir(stage)
        self.history: list[dict[str, float]] = []

    def _save(self, rng: np.random.Generator, epoch: int, step: int, epoch_done: bool) -> None:
        states = gather_objects(self.ctx.process, rng_state(rng))
        if not self.ctx.process.is_main:
            return
        save_checkpoint(
            self.folder,
            {
                "stage": self.stage,
                "config": self.ctx.config.to_dict(),
                "categories": list(self.ctx.split.categories),
                "epoch": epoch,
                "step": step,
                "rng": states,
                "history": self.history,
                **self.state(),
            },
            epoch_done,
        )

    def run(self) -> Path:
        ctx = self.ctx
        rng = ctx.rank_rng(self.stage)
        epoch, step = 0, 0
        latest = self.folder / LATEST
        if latest.exists():
            saved = load_checkpoint(latest, self.stage)
            self.load(saved)
            epoch, step = saved["epoch"], saved["step"]
            self.history = list(saved["history"])
            restore_rng(rng, saved["rng"][ctx.process.rank])
            log.info("%s: resuming at epoch %d, step %d", self.stage, epoch + 1, step)
        writer = None
        if ctx.process.is_main:
            from torch.utils.tensorboard import SummaryWriter

            writer = SummaryWriter(str(self.folder / "tensorboard"))
        total = self.epochs * self.steps_per_epoch
        bar = tqdm(
            total=total,
            initial=epoch * self.steps_per_epoch + step,
            desc=self.stage,
            disable=not (ctx.progress and ctx.process.is_main),
            dynamic_ncols=True,
        )
        try:
            while epoch < self.epochs:
                started = time.monotonic()
                sums: dict[str, float] = {}
                counted = 0
                while step < self.steps_per_epoch:
                    if any_rank(ctx.process, ctx.stop.requested):
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
                if ctx.process.is_main:
                    summary.update(self.end_epoch(epoch))
                    summary["epoch"] = epoch
                    summary["seconds"] = time.monotonic() - started
                    for key, value in summary.items():
                        writer.add_scalar(f"{self.stage}/epoch/{key}", value, epoch)
                    log.info(
                        "%s epoch %d/%d: %s",
                        self.stage,
                        epoch,
                        self.epochs,
                        ", ".join(f"{k} {v:.4g}" for k, v in summary.items()),
                    )
                self.history.append(summary)
                self._save(rng, epoch, 0, epoch_done=True)
        finally:
            bar.close()
            if writer is not None:
                writer.close()
        return self.folder / LATEST
