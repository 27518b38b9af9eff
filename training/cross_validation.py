"""Track-grouped K-fold cross-validation of the music side, and the figures pooled over folds.

Every labelled track (all music folders of the data) lands in exactly one held-out fold;
folds are stratified by category so each holds about 1/K of every category's tracks. Each
fold trains the music side on the other folds' tracks only and predicts a category for
windows of its held-out tracks; `cv_figures` pools those predictions: per-fold and pooled
window accuracy, their spread, per-category accuracy, the share of windows each category
receives and per-track majority accuracy.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from training.data import DataSplit
from visualizer.scene_memory import remembered_sequence


def stratified_track_folds(labels: list[int] | np.ndarray, k: int, seed: int) -> np.ndarray:
    """Fold index (0..k-1) per track: each category's tracks shuffled and dealt round-robin,
    the deal of each category starting where the previous one stopped (fold sizes differ by
    at most one)."""
    labels = np.asarray(labels, dtype=np.int64)
    if k < 2:
        raise ValueError(f"cross-validation needs at least 2 folds, got {k}")
    counts = np.bincount(labels)
    if labels.size < k:
        raise ValueError(f"{labels.size} tracks cannot fill {k} folds")
    rng = np.random.default_rng(seed)
    folds = np.empty(labels.size, dtype=np.int64)
    next_fold = 0
    for label in range(counts.size):
        members = np.flatnonzero(labels == label)
        for position, track in enumerate(rng.permutation(members)):
            folds[track] = (next_fold + position) % k
        next_fold = (next_fold + members.size) % k
    return folds


def fold_splits(split: DataSplit, k: int, seed: int) -> list[DataSplit]:
    """K splits of the same data: fold f holds out the tracks dealt to f and trains on the
    rest. Every labelled track (training and validation of `split`) takes part; the photos
    keep `split`'s division."""
    tracks = sorted(split.train_tracks + split.validation_tracks)
    folds = stratified_track_folds([label for _, label in tracks], k, seed)
    return [
        dataclasses.replace(
            split,
            train_tracks=[
                track for track, fold in zip(tracks, folds, strict=True) if fold != held_out
            ],
            validation_tracks=[
                track for track, fold in zip(tracks, folds, strict=True) if fold == held_out
            ],
        )
        for held_out in range(k)
    ]


@dataclass
class FoldPredictions:
    """One fold's held-out windows: true category, chosen category and track of each."""

    labels: np.ndarray
    chosen: np.ndarray
    tracks: list[str]


def cv_figures(folds: list[FoldPredictions], categories: tuple[str, ...]) -> dict:
    """Per-fold and pooled figures (window accuracy, spread, per-category accuracy, shares,
    track majority accuracy) as written into cv.json."""
    n_classes = len(categories)
    per_fold = [float(np.mean(f.chosen == f.labels)) for f in folds]
    labels = np.concatenate([f.labels for f in folds])
    chosen = np.concatenate([f.chosen for f in folds])
    tracks = [track for f in folds for track in f.tracks]
    per_category = {
        name: float(np.mean(chosen[labels == index] == index))
        for index, name in enumerate(categories)
        if np.any(labels == index)
    }
    shares = np.bincount(chosen, minlength=n_classes) / max(chosen.size, 1)
    track_correct = []
    for track in sorted(set(tracks)):
        rows = np.asarray([t == track for t in tracks])
        votes = np.bincount(chosen[rows], minlength=n_classes)
        track_correct.append(int(votes.argmax() == labels[rows][0]))
    return {
        "folds": len(folds),
        "windows": int(labels.size),
        "tracks": len(set(tracks)),
        "accuracy": float(np.mean(chosen == labels)),
        "balanced_accuracy": float(np.mean(list(per_category.values()))),
        "per_fold_accuracy": per_fold,
        "fold_mean": float(np.mean(per_fold)),
        "fold_std": float(np.std(per_fold, ddof=1)) if len(per_fold) > 1 else 0.0,
        "per_category_accuracy": per_category,
        "chosen_shares": {name: float(shares[i]) for i, name in enumerate(categories)},
        "track_accuracy": float(np.mean(track_correct)),
    }


def remembered_choices(
    scores: np.ndarray, tracks: list[str], memory_seconds: float, hop_seconds: float
) -> np.ndarray:
    """The category chosen for each window [N] from its scores [N, C] read through the
    scene memory: each track's windows (in order, `hop_seconds` apart) through a memory of
    its own, as `musicscape eval` and the app read them."""
    chosen = np.empty(len(scores), dtype=np.int64)
    track_of = np.asarray(tracks)
    for track in dict.fromkeys(tracks):
        rows = np.flatnonzero(track_of == track)
        _, remembered = remembered_sequence(scores[rows], scores[rows], memory_seconds, hop_seconds)
        chosen[rows] = remembered.argmax(1)
    return chosen


def cv_hop_frames(contract) -> int:
    """CV reads held-out windows every half window (8 s at the default contract)."""
    return contract.n_frames // 2


def window_starts(n_frames_track: int, window_frames: int, hop_frames: int) -> list[int]:
    """Window starts every `hop_frames` covering a track (one start, 0, for a short track)."""
    last = max(n_frames_track - window_frames, 0)
    return list(range(0, last + 1, hop_frames)) or [0]


def write_cv_json(path: Path, figures: dict, extra: dict) -> None:
    Path(path).write_text(json.dumps({**extra, **figures}, indent=2) + "\n")
