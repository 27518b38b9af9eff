"""A running average of a model's weights (the generator's, as Karras et al. 2018 do).

GAN weights wander from step to step; their exponential moving average draws steadier,
cleaner images, so the sample grids and the exported generator use the average.

The average's BatchNorm statistics belong to the live weights, not to the averaged ones:
`recalibrate_batch_norm` measures them afresh on the average before it is used.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

import torch
from torch import nn


class WeightAverage:
    """Exponential moving average of `model`'s parameters.

    The decay warms up as (1 + n) / (10 + n) after n updates (capped at `decay`), so early
    in training the average follows the model instead of remembering its initialisation.
    """

    def __init__(self, model: nn.Module, decay: float):
        if not 0.0 < decay < 1.0:
            raise ValueError(f"decay must be in (0, 1), got {decay}")
        self.decay = decay
        self.model = copy.deepcopy(model).eval().requires_grad_(False)
        self.updates = 0

    def current_decay(self) -> float:
        """The decay the next update uses."""
        return min(self.decay, (1 + self.updates) / (10 + self.updates))

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        weight = 1.0 - self.current_decay()
        self.updates += 1
        for average, current in zip(self.model.parameters(), model.parameters(), strict=True):
            average.lerp_(current.detach(), weight)

    @torch.no_grad()
    def restart_from(self, model: nn.Module) -> None:
        """Start the average again at `model`'s weights (a checkpoint saved without one)."""
        self.model.load_state_dict(model.state_dict())
        self.updates = 0

    def state_dict(self) -> dict[str, Any]:
        return {"model": self.model.state_dict(), "updates": self.updates}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.updates = int(state["updates"])


class EqualWeightAverage:
    """The plain mean of the weights of every model passed to `add` (Izmailov et al.'s
    stochastic weight averaging, taken once per epoch). `model` is None until the first add."""

    def __init__(self) -> None:
        self.model: nn.Module | None = None
        self.count = 0

    @torch.no_grad()
    def add(self, model: nn.Module) -> None:
        self.count += 1
        if self.model is None:
            self.model = copy.deepcopy(model).requires_grad_(False)
            return
        for mean, current in zip(self.model.parameters(), model.parameters(), strict=True):
            mean.lerp_(current.detach(), 1.0 / self.count)

    def state_dict(self) -> dict[str, Any]:
        return {
            "model": None if self.model is None else self.model.state_dict(),
            "count": self.count,
        }

    def load_state_dict(self, state: dict[str, Any], like: nn.Module) -> None:
        """Restore a saved average; `like` is a model of the same shape (its copy holds it)."""
        self.count = int(state["count"])
        self.model = None
        if state["model"] is not None:
            self.model = copy.deepcopy(like).requires_grad_(False)
            self.model.load_state_dict(state["model"])


@torch.no_grad()
def recalibrate_batch_norm(model: nn.Module, batches: Iterable[tuple[torch.Tensor, ...]]) -> int:
    """Set every BatchNorm's running mean and variance to their plain average over `batches`
    (model(*batch) each); returns the number of batches. The model is left in eval mode."""
    batches = list(batches)
    if not batches:
        raise ValueError("recalibrate_batch_norm needs at least one batch")
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    momenta = [norm.momentum for norm in norms]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # cumulative average over the batches
    model.train()
    try:
        for batch in batches:
            model(*batch)
    finally:
        for norm, momentum in zip(norms, momenta, strict=True):
            norm.momentum = momentum
        model.eval()
    return len(batches)
