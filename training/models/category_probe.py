"""The category probe beside the music encoder, and how it joins the encoder's answer.

The probe is a class-balanced logistic regression on the key-blind tonal and rhythm summary
of a window (`TonalRhythmSummary`): tempo, metre, scale and timbre's movement, which by
cross-validation carry more of the category to music the encoder never heard than the
encoder does. `ProbeNudge` adds `blend_weight` times its log-probabilities (centred over the
categories) to the encoder's category scores, and moves the feature by the smallest step
that gives it exactly those scores against the category prototypes. The scene memory, the
category the app names and the generator's category pull all read the feature's scores, so
all of them follow the blend, and the generator is conditioned on a feature moved only
within the prototypes' span.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from training.models.tonal_summary import TonalRhythmSummary
from visualizer.frontend import FrontEndContract

# Probabilities below this read as this (log 1e-6 = -13.8): one confident probe cannot
# outvote the encoder without bound.
PROBABILITY_FLOOR = 1e-6


class CategoryProbe(nn.Module):
    """window [B, 2, n_bins, T] -> log-probabilities [B, n_classes] of a logistic regression
    on the standardised tonal and rhythm summary (`mean`, `scale` from its training windows),
    floored at log PROBABILITY_FLOOR."""

    def __init__(self, contract: FrontEndContract, n_classes: int):
        super().__init__()
        self.summary = TonalRhythmSummary(contract)
        size = self.summary.size
        self.register_buffer("mean", torch.zeros(size))
        self.register_buffer("scale", torch.ones(size))
        self.linear = nn.Linear(size, n_classes)

    def forward(self, window: torch.Tensor) -> torch.Tensor:
        standard = (self.summary(window) - self.mean) / self.scale  # [B, summary]
        log_probabilities = F.log_softmax(self.linear(standard), dim=1)  # [B, C]
        return log_probabilities.clamp_min(math.log(PROBABILITY_FLOOR))


class ProbeNudge(nn.Module):
    """(window, feature [B, D], category scores [B, C]) -> (feature', scores'), where
    scores' = scores + blend_weight * (log p - mean over categories of log p) and
    feature' = feature + shift, the least-norm shift with shift @ prototypes.T equal to that
    change, so feature' @ prototypes.T = scores' when scores = feature @ prototypes.T (how
    the exported encoder scores). `prototypes` [C, D] must be linearly independent."""

    def __init__(self, probe: CategoryProbe, prototypes: torch.Tensor, blend_weight: float):
        super().__init__()
        self.probe = probe
        self.blend_weight = float(blend_weight)
        prototypes = prototypes.double()
        gram = prototypes @ prototypes.T  # [C, C]
        # [C, D]: a change of the scores [B, C] times this is the least-norm feature shift.
        self.register_buffer("score_to_shift", torch.linalg.solve(gram, prototypes).float())

    def forward(
        self, window: torch.Tensor, feature: torch.Tensor, scores: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        log_probabilities = self.probe(window)  # [B, C]
        centred = log_probabilities - log_probabilities.mean(dim=1, keepdim=True)
        change = self.blend_weight * centred  # [B, C]
        return feature + change @ self.score_to_shift, scores + change
