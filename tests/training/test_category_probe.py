"""The category probe's blend with the encoder: the least-norm nudge of the feature."""

import math

import numpy as np
import torch

from training.models.category_probe import PROBABILITY_FLOOR, CategoryProbe, ProbeNudge
from visualizer.frontend import FrontEndContract

CONTRACT = FrontEndContract()


def probe_with_bias(bias) -> CategoryProbe:
    """A probe whose log-probabilities are log softmax(bias) for every window."""
    probe = CategoryProbe(CONTRACT, len(bias))
    with torch.no_grad():
        probe.linear.weight.zero_()
        probe.linear.bias.copy_(torch.tensor(bias))
    return probe.eval()


def windows(batch: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(0)
    return torch.rand(batch, 2, CONTRACT.n_bins, CONTRACT.n_frames, generator=generator) * 2 - 1


@torch.no_grad()
def test_the_scores_move_by_the_weighted_centred_log_probabilities():
    bias = [2.0, 0.0, -1.0, 0.5]
    prototypes = torch.randn(4, 16, generator=torch.Generator().manual_seed(1))
    feature = torch.randn(3, 16, generator=torch.Generator().manual_seed(2))
    scores = feature @ prototypes.T
    nudge = ProbeNudge(probe_with_bias(bias), prototypes, blend_weight=0.5).eval()
    nudged_feature, nudged_scores = nudge(windows(3), feature, scores)
    log_p = torch.log_softmax(torch.tensor(bias), dim=0)
    expected_change = 0.5 * (log_p - log_p.mean())
    torch.testing.assert_close(nudged_scores, scores + expected_change, atol=1e-5, rtol=0)
    # the moved feature scores exactly that against the prototypes ...
    torch.testing.assert_close(nudged_feature @ prototypes.T, nudged_scores, atol=1e-5, rtol=0)
    # ... by the least shift that does: one inside the prototypes' span
    shift = (nudged_feature - feature).double()
    span = torch.linalg.lstsq(prototypes.T.double(), shift.T).solution  # [4, 3]
    torch.testing.assert_close(prototypes.T.double() @ span, shift.T, atol=1e-6, rtol=0)


@torch.no_grad()
def test_weight_zero_leaves_the_encoder_as_it_is():
    prototypes = torch.eye(4, 8)
    feature = torch.randn(2, 8, generator=torch.Generator().manual_seed(3))
    nudge = ProbeNudge(probe_with_bias([5.0, 0.0, 0.0, 0.0]), prototypes, 0.0).eval()
    nudged_feature, nudged_scores = nudge(windows(2), feature, feature @ prototypes.T)
    torch.testing.assert_close(nudged_feature, feature, atol=0, rtol=0)
    torch.testing.assert_close(nudged_scores, feature @ prototypes.T, atol=0, rtol=0)


@torch.no_grad()
def test_a_certain_probe_is_floored():
    log_p = probe_with_bias([60.0, 0.0, 0.0])(windows(1))[0]
    assert log_p[0] == torch.log_softmax(torch.tensor([60.0, 0.0, 0.0]), 0)[0]
    assert torch.all(log_p[1:] == torch.tensor(math.log(PROBABILITY_FLOOR)))
    assert np.isfinite(log_p.numpy()).all()
