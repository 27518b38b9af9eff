"""Linear probes on frozen music features, cross-validated by track.

A probe is multinomial logistic regression on standardised features (statistics from its
training windows only), class-balanced, with an L2 penalty; it measures how much of the
category a frozen representation carries in a form that reaches unseen tracks. The L2
weight is chosen inside each fold (nested): of PROBE_WEIGHT_DECAYS, the one whose probes
score best on the fold's training tracks when each of the other folds is held out in turn,
so no held-out window takes part in the choice. Each held-out track's windows are read
each alone and, in order, through the app's scene memory. The
representations compared: the spectral summary below and the key-blind tonal and rhythm
summary (`training.models.tonal_summary`), neither learned, and music-encoder trunks
(random, self-supervised).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from training.config import PROBE_WEIGHT_DECAYS
from training.cross_validation import (
    FoldPredictions,
    cv_figures,
    cv_hop_frames,
    remembered_choices,
    stratified_track_folds,
    window_starts,
)
from training.models.tonal_summary import TonalRhythmSummary
from visualizer.frontend import FrontEndContract
from visualizer.frontend.descriptors import DescriptorAnalyser
from visualizer.scene_memory import DEFAULT_SCENE_MEMORY_SECONDS

SUMMARY_BANDS = 32
# The L2 weight a probe takes when its training folds are too few to choose by (K = 2
# leaves one); otherwise it chooses among PROBE_WEIGHT_DECAYS fold by fold (nested CV).
UNCHOSEN_WEIGHT_DECAY = 1e-2
# The least spread a feature is standardised by (a constant feature stays near zero).
DEFAULT_SCALE_FLOOR = 1e-6


class SpectralSummary:
    """[2 * SUMMARY_BANDS + 16] per window: mean and standard deviation over time of the log
    power in log-spaced bands, the normalised chroma, and the window's descriptors."""

    def __init__(self, contract: FrontEndContract):
        self.descriptors = DescriptorAnalyser(contract)
        edges = np.geomspace(2, contract.n_bins, SUMMARY_BANDS + 1).astype(np.int64)
        self.edges = np.unique(edges)

    def __call__(self, window: np.ndarray) -> np.ndarray:
        power = np.asarray(window[0], dtype=np.float32)  # [n_bins, T]
        bands = np.stack(
            [
                power[lo:hi].mean(axis=0)
                for lo, hi in zip(self.edges[:-1], self.edges[1:], strict=True)
            ]
        )  # [bands, T]
        linear = self.descriptors.linear_power(power)
        chroma = self.descriptors.chroma(linear)
        chroma = chroma / max(chroma.sum(), 1e-12)
        described = self.descriptors.describe(power)
        scalars = [
            described.loudness_db / 30.0,
            np.log2(max(described.onset_rate, 0.1)),
            np.log2(max(described.centroid_hz, 50.0) / 1000.0),
            described.mode,
        ]
        return np.concatenate(
            [bands.mean(axis=1), bands.std(axis=1), chroma, np.asarray(scalars)]
        ).astype(np.float32)


def train_probe(
    features: np.ndarray,
    labels: np.ndarray,
    n_classes: int,
    weight_decay: float,
    steps: int = 300,
    scale_floor: float = DEFAULT_SCALE_FLOOR,
) -> tuple[np.ndarray, np.ndarray, torch.nn.Linear]:
    """(mean, scale, linear layer) of a class-balanced logistic regression (L-BFGS) on the
    features standardised by their training mean and spread (at least `scale_floor`)."""
    mean = features.mean(axis=0)
    scale = np.maximum(features.std(axis=0), scale_floor)
    x = torch.from_numpy((features - mean) / scale).float()
    y = torch.from_numpy(labels).long()
    counts = np.bincount(labels, minlength=n_classes).astype(np.float64)
    weights = torch.tensor(counts.sum() / (n_classes * np.maximum(counts, 1)), dtype=torch.float32)
    torch.manual_seed(0)
    layer = torch.nn.Linear(x.shape[1], n_classes)
    optimiser = torch.optim.LBFGS(layer.parameters(), lr=1.0, max_iter=steps, history_size=20)

    def closure():
        optimiser.zero_grad()
        loss = F.cross_entropy(layer(x), y, weight=weights)
        loss = loss + weight_decay * layer.weight.square().sum()
        loss.backward()
        return loss

    optimiser.step(closure)
    return mean, scale, layer


@torch.no_grad()
def probe_probabilities(probe, features: np.ndarray) -> np.ndarray:
    """[N, C] class probabilities of a probe from `train_probe`."""
    mean, scale, layer = probe
    logits = layer(torch.from_numpy((features - mean) / scale).float())
    return torch.softmax(logits, dim=1).numpy()


@dataclass
class ProbeCV:
    """A probe's cross-validated answers: each window's class probabilities [N, C] from the
    probe of the fold that held its track out, and the L2 weight each fold chose."""

    probabilities: np.ndarray
    chosen_weight_decays: list[float]


def held_out_probabilities(
    features: np.ndarray,
    labels: np.ndarray,
    folds: np.ndarray,
    n_classes: int,
    weight_decay: float,
    scale_floor: float = DEFAULT_SCALE_FLOOR,
) -> np.ndarray:
    """[N, C]: each row's probabilities from a probe trained on the rows of the other folds."""
    probabilities = np.zeros((len(labels), n_classes), dtype=np.float32)
    for fold in np.unique(folds):
        held = folds == fold
        probe = train_probe(
            features[~held], labels[~held], n_classes, weight_decay, scale_floor=scale_floor
        )
        probabilities[held] = probe_probabilities(probe, features[held])
    return probabilities


def weight_decay_accuracies(
    features: np.ndarray,
    labels: np.ndarray,
    folds: np.ndarray,
    n_classes: int,
    candidates: tuple[float, ...],
    scale_floor: float = DEFAULT_SCALE_FLOOR,
) -> dict[float, float]:
    """{L2 weight: window accuracy over `folds`, each held out in turn} for `candidates`."""
    accuracies = {}
    for weight_decay in sorted(candidates):
        probabilities = held_out_probabilities(
            features, labels, folds, n_classes, weight_decay, scale_floor
        )
        accuracies[weight_decay] = float(np.mean(probabilities.argmax(1) == labels))
    return accuracies


def nested_weight_decay(
    features: np.ndarray,
    labels: np.ndarray,
    folds: np.ndarray,
    n_classes: int,
    candidates: tuple[float, ...],
    scale_floor: float = DEFAULT_SCALE_FLOOR,
) -> float:
    """Of `candidates`, the L2 weight with the best window accuracy over `folds` (each held
    out in turn); the smaller weight wins a tie. A single candidate is taken as it is, and
    a single fold leaves nothing to choose by: UNCHOSEN_WEIGHT_DECAY."""
    if len(candidates) == 1:
        return candidates[0]
    if np.unique(folds).size < 2:
        return UNCHOSEN_WEIGHT_DECAY
    return best_weight_decay(
        weight_decay_accuracies(features, labels, folds, n_classes, candidates, scale_floor)
    )


def best_weight_decay(accuracies: dict[float, float]) -> float:
    """The L2 weight with the best accuracy; the smaller weight wins a tie."""
    return max(accuracies, key=lambda weight_decay: (accuracies[weight_decay], -weight_decay))


def probe_cv(
    features: np.ndarray,
    labels: np.ndarray,
    tracks: list[str],
    track_fold: dict[str, int],
    n_classes: int,
    weight_decays: tuple[float, ...] = PROBE_WEIGHT_DECAYS,
    scale_floor: float = DEFAULT_SCALE_FLOOR,
) -> ProbeCV:
    """Per fold: a probe trained on the other folds' windows, its L2 weight chosen among
    `weight_decays` by the same CV over those folds alone (`nested_weight_decay`), gives the
    held-out windows' probabilities."""
    folds = np.asarray([track_fold[t] for t in tracks])
    probabilities = np.zeros((len(labels), n_classes), dtype=np.float32)
    chosen = []
    for fold in range(max(track_fold.values()) + 1):
        held = folds == fold
        weight_decay = nested_weight_decay(
            features[~held], labels[~held], folds[~held], n_classes, weight_decays, scale_floor
        )
        probe = train_probe(
            features[~held], labels[~held], n_classes, weight_decay, scale_floor=scale_floor
        )
        probabilities[held] = probe_probabilities(probe, features[held])
        chosen.append(float(weight_decay))
    return ProbeCV(probabilities, chosen)


def split_by_fold(
    chosen: np.ndarray, labels: np.ndarray, tracks: list[str], track_fold: dict[str, int]
) -> list[FoldPredictions]:
    """Per-window choices split into the folds that held their tracks out."""
    folds = np.asarray([track_fold[t] for t in tracks])
    return [
        FoldPredictions(
            labels[folds == fold],
            chosen[folds == fold],
            [t for t, f in zip(tracks, folds, strict=True) if f == fold],
        )
        for fold in range(max(track_fold.values()) + 1)
    ]


@torch.no_grad()
def window_representations(
    bank, hop_frames: int, representations: dict[str, object], batch: int = 16, device="cpu"
) -> tuple[dict[str, np.ndarray], np.ndarray, list[str]]:
    """Every `hop_frames` of every track of `bank`, each representation's vector of the
    window (a callable on one window, or a music encoder on `device` run in eval mode on
    batches):
    ({name: [N, D]}, labels [N], track paths [N]). Windows are made a batch at a time."""
    for representation in representations.values():
        if isinstance(representation, torch.nn.Module):
            representation.eval()
    vectors: dict[str, list[np.ndarray]] = {name: [] for name in representations}
    labels, tracks, pending = [], [], []
    n_frames = bank.contract.n_frames

    def flush() -> None:
        windows = np.stack(pending)
        for name, representation in representations.items():
            if isinstance(representation, torch.nn.Module):
                batch_on_device = torch.from_numpy(windows).to(device)
                vectors[name].append(representation(batch_on_device).cpu().numpy())
            else:
                vectors[name].append(np.stack([representation(w) for w in windows]))
        pending.clear()

    for track in range(len(bank)):
        for start in window_starts(bank.features[track].shape[2], n_frames, hop_frames):
            pending.append(bank.window(track, start))
            labels.append(bank.labels[track])
            tracks.append(str(bank.paths[track]))
            if len(pending) == batch:
                flush()
    if pending:
        flush()
    stacked = {name: np.concatenate(parts) for name, parts in vectors.items()}
    return stacked, np.asarray(labels, dtype=np.int64), tracks


def probe_report(ctx, k: int, encoders: dict[str, object], draws: int = 1) -> dict:
    """Probe CV over every labelled track of the run's data for the two summaries and
    each named encoder (frozen), folds as `musicscape train --cv`, dealt `draws` times
    (seeds data.seed, data.seed + 1, ...): {name: `probe_cv_draws` figures}."""
    from training.data import MusicBank

    tracks = sorted(ctx.split.train_tracks + ctx.split.validation_tracks)
    bank = MusicBank(tracks, ctx.cache, ctx.contract, ctx.split.skipped)
    track_labels = {str(path): label for path, label in zip(bank.paths, bank.labels, strict=True)}
    representations = {
        "spectral_summary": SpectralSummary(ctx.contract),
        "tonal_rhythm_summary": TonalRhythmSummary(ctx.contract),
        **encoders,
    }
    hop_frames = cv_hop_frames(ctx.contract)
    vectors, labels, window_tracks = window_representations(bank, hop_frames, representations)
    seeds = [ctx.config.data.seed + draw for draw in range(draws)]
    return {
        name: probe_cv_draws(
            features,
            labels,
            window_tracks,
            track_labels,
            k,
            seeds,
            ctx.split.categories,
            hop_frames * ctx.contract.frame_seconds,
        )
        for name, features in vectors.items()
    }


def probe_cv_draws(
    features: np.ndarray,
    labels: np.ndarray,
    window_tracks: list[str],
    track_labels: dict[str, int],
    k: int,
    seeds: list[int],
    categories: tuple[str, ...],
    hop_seconds: float,
) -> dict:
    """Nested probe CV (`probe_cv`) of windows `features` [N, D] under each of `seeds`' deal
    of the tracks into k stratified folds. The first deal's figures as `cv_figures` writes
    them, each window alone, then "memory": the same read through the scene memory and
    "chosen_weight_decays": each fold's L2 weight. A second deal or more adds "draws" (per
    deal its seed and pooled accuracy each way) and "draws_accuracy" and
    "draws_memory_accuracy" (mean, spread with ddof 1, least, most): on a few dozen tracks
    the deal alone moves the pooled accuracy by several points, more than most choices
    being compared."""
    names = list(track_labels)
    draws, report = [], {}
    for seed in seeds:
        dealt = stratified_track_folds(list(track_labels.values()), k, seed)
        track_fold = {name: int(fold) for name, fold in zip(names, dealt, strict=True)}
        probed = probe_cv(features, labels, window_tracks, track_fold, len(categories))
        remembered = remembered_choices(
            probed.probabilities, window_tracks, DEFAULT_SCENE_MEMORY_SECONDS, hop_seconds
        )
        alone = cv_figures(
            split_by_fold(probed.probabilities.argmax(1), labels, window_tracks, track_fold),
            categories,
        )
        memory = cv_figures(
            split_by_fold(remembered, labels, window_tracks, track_fold), categories
        )
        if not report:
            report = {
                **alone,
                "memory": memory,
                "chosen_weight_decays": probed.chosen_weight_decays,
            }
        draws.append(
            {"seed": seed, "accuracy": alone["accuracy"], "memory_accuracy": memory["accuracy"]}
        )
    if len(draws) > 1:
        report["draws"] = draws
        for key in ("accuracy", "memory_accuracy"):
            values = np.asarray([draw[key] for draw in draws])
            report[f"draws_{key}"] = {
                "mean": float(values.mean()),
                "std": float(values.std(ddof=1)),
                "min": float(values.min()),
                "max": float(values.max()),
            }
    return report
