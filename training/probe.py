"""Linear probes on frozen music features, cross-validated by track.

A probe is multinomial logistic regression on standardised features (statistics from its
training windows only), class-balanced, with an L2 penalty; it measures how much of the
category a frozen representation carries in a form that reaches unseen tracks. The L2
weight is chosen inside each fold (nested): of PROBE_WEIGHT_DECAYS, the one whose probes
score best on the fold's training tracks when each of the other folds is held out in turn,
so no held-out window takes part in the choice. Each held-out track's windows are read
each alone and, in order, through the app's scene memory. The
representations compared: the spectral summary and the key-blind tonal and rhythm summary
below (no learning), and music-encoder trunks (random, self-supervised).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from training.cross_validation import (
    FoldPredictions,
    cv_figures,
    cv_hop_frames,
    remembered_choices,
    stratified_track_folds,
    window_starts,
)
from visualizer.frontend import FrontEndContract
from visualizer.frontend.descriptors import (
    KRUMHANSL_MAJOR,
    KRUMHANSL_MINOR,
    DescriptorAnalyser,
    best_rotation,
)
from visualizer.scene_memory import DEFAULT_SCENE_MEMORY_SECONDS

SUMMARY_BANDS = 32
# The L2 weights a probe chooses from, fold by fold (nested CV), and the one it takes
# when its training folds are too few to choose by (K = 2 leaves one).
PROBE_WEIGHT_DECAYS = (1e-3, 1e-2, 1e-1, 1.0)
UNCHOSEN_WEIGHT_DECAY = 1e-2
# Edges of the lag bands of the onset autocorrelation in the tonal and rhythm summary:
# 50 ms to 2.8 s, 16 bands a constant ratio apart (a tempo histogram).
RHYTHM_LAG_EDGE_SECONDS = np.geomspace(0.05, 2.8, 17)
RHYTHM_BANDS = 8


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


class TonalRhythmSummary:
    """Per window, blind to the key: the normalised chroma rotated so that the best-matching
    key's tonic (Krumhansl major or minor profile) is first [12], the chroma's DFT magnitudes
    (unchanged by transposition) [6], the three best key correlations [3], whether that key
    is minor [1]; then the autocorrelation of the onset strength (mean rise of log power),
    its largest value in each band of lags between RHYTHM_LAG_EDGE_SECONDS [bands], the
    spread over time of log power in RHYTHM_BANDS bands, and the spectral flatness's mean
    and spread over time [2]. Tempo, metre, scale and timbre's movement, with no absolute
    pitch, which says nothing about a scene."""

    def __init__(self, contract: FrontEndContract):
        self.descriptors = DescriptorAnalyser(contract)
        frames_per_second = contract.sample_rate / contract.hop
        edges = np.round(RHYTHM_LAG_EDGE_SECONDS * frames_per_second).astype(np.int64)
        self.lag_edges = np.unique(edges)

    def tonal(self, linear: np.ndarray) -> np.ndarray:
        chroma = self.descriptors.chroma(linear)
        chroma = chroma / max(chroma.sum(), 1e-12)
        keys = np.concatenate(
            [best_rotation(chroma, KRUMHANSL_MAJOR), best_rotation(chroma, KRUMHANSL_MINOR)]
        )  # [24]: C..B major, then C..B minor
        best = int(np.argmax(keys))
        return np.concatenate(
            [
                np.roll(chroma, -(best % 12)),
                np.abs(np.fft.rfft(chroma))[1:],
                np.sort(keys)[::-1][:3],
                [float(best >= 12)],
            ]
        )

    def rhythm(self, power: np.ndarray, linear: np.ndarray) -> np.ndarray:
        onset = np.maximum(np.diff(power, axis=1), 0.0).mean(axis=0)  # [T - 1]
        onset = onset - onset.mean()
        autocorrelation = np.correlate(onset, onset, "full")[onset.size - 1 :]
        autocorrelation = autocorrelation / max(float(autocorrelation[0]), 1e-12)
        lagged = np.zeros(self.lag_edges.size - 1)
        for band, (low, high) in enumerate(
            zip(self.lag_edges[:-1], self.lag_edges[1:], strict=True)
        ):
            if low < autocorrelation.size:
                lagged[band] = autocorrelation[low : min(high, autocorrelation.size)].max()
        movement = [band.mean() for band in np.array_split(power.std(axis=1), RHYTHM_BANDS)]
        flatness = np.exp(np.mean(np.log(linear + 1e-10), axis=0)) / (linear.mean(axis=0) + 1e-10)
        return np.concatenate([lagged, movement, [flatness.mean(), flatness.std()]])

    def __call__(self, window: np.ndarray) -> np.ndarray:
        power = np.asarray(window[0], dtype=np.float32)  # [n_bins, T]
        linear = self.descriptors.linear_power(power)
        return np.concatenate([self.tonal(linear), self.rhythm(power, linear)]).astype(np.float32)


def train_probe(
    features: np.ndarray,
    labels: np.ndarray,
    n_classes: int,
    weight_decay: float,
    steps: int = 300,
) -> tuple[np.ndarray, np.ndarray, torch.nn.Linear]:
    """(mean, scale, linear layer) of a class-balanced logistic regression (L-BFGS)."""
    mean = features.mean(axis=0)
    scale = features.std(axis=0) + 1e-6
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
) -> np.ndarray:
    """[N, C]: each row's probabilities from a probe trained on the rows of the other folds."""
    probabilities = np.zeros((len(labels), n_classes), dtype=np.float32)
    for fold in np.unique(folds):
        held = folds == fold
        probe = train_probe(features[~held], labels[~held], n_classes, weight_decay)
        probabilities[held] = probe_probabilities(probe, features[held])
    return probabilities


def nested_weight_decay(
    features: np.ndarray,
    labels: np.ndarray,
    folds: np.ndarray,
    n_classes: int,
    candidates: tuple[float, ...],
) -> float:
    """Of `candidates`, the L2 weight with the best window accuracy over `folds` (each held
    out in turn); the smaller weight wins a tie. A single candidate is taken as it is, and
    a single fold leaves nothing to choose by: UNCHOSEN_WEIGHT_DECAY."""
    if len(candidates) == 1:
        return candidates[0]
    if np.unique(folds).size < 2:
        return UNCHOSEN_WEIGHT_DECAY
    best_weight, best_accuracy = None, -1.0
    for weight_decay in sorted(candidates):
        chosen = held_out_probabilities(features, labels, folds, n_classes, weight_decay).argmax(1)
        accuracy = float(np.mean(chosen == labels))
        if accuracy > best_accuracy:
            best_weight, best_accuracy = weight_decay, accuracy
    return best_weight


def probe_cv(
    features: np.ndarray,
    labels: np.ndarray,
    tracks: list[str],
    track_fold: dict[str, int],
    n_classes: int,
    weight_decays: tuple[float, ...] = PROBE_WEIGHT_DECAYS,
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
            features[~held], labels[~held], folds[~held], n_classes, weight_decays
        )
        probe = train_probe(features[~held], labels[~held], n_classes, weight_decay)
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


def probe_report(ctx, k: int, encoders: dict[str, object]) -> dict:
    """Probe CV over every labelled track of the run's data for the two summaries and
    each named encoder (frozen), folds as `musicscape train --cv`: {name: cv_figures of
    each window alone, plus "memory": the same read through the scene memory, and
    "chosen_weight_decays": each fold's L2 weight}."""
    from training.data import MusicBank

    tracks = sorted(ctx.split.train_tracks + ctx.split.validation_tracks)
    bank = MusicBank(tracks, ctx.cache, ctx.contract, ctx.split.skipped)
    folds = stratified_track_folds(bank.labels, k, ctx.config.data.seed)
    track_fold = {str(path): int(fold) for path, fold in zip(bank.paths, folds, strict=True)}
    representations = {
        "spectral_summary": SpectralSummary(ctx.contract),
        "tonal_rhythm_summary": TonalRhythmSummary(ctx.contract),
        **encoders,
    }
    hop_frames = cv_hop_frames(ctx.contract)
    vectors, labels, window_tracks = window_representations(bank, hop_frames, representations)
    hop_seconds = hop_frames * ctx.contract.frame_seconds
    categories = ctx.split.categories
    report = {}
    for name, features in vectors.items():
        probed = probe_cv(features, labels, window_tracks, track_fold, len(categories))
        remembered = remembered_choices(
            probed.probabilities, window_tracks, DEFAULT_SCENE_MEMORY_SECONDS, hop_seconds
        )
        report[name] = {
            **cv_figures(
                split_by_fold(probed.probabilities.argmax(1), labels, window_tracks, track_fold),
                categories,
            ),
            "memory": cv_figures(
                split_by_fold(remembered, labels, window_tracks, track_fold), categories
            ),
            "chosen_weight_decays": probed.chosen_weight_decays,
        }
    return report
