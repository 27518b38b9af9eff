"""Stage `probe`: the category probe beside the music encoder (training.models.category_probe).

Reads every half window of the run's training tracks (the tracks the encoder trains on; with
`probe.tracks = "labelled"`, every labelled track, the validation tracks too), summarises each
with the key-blind tonal and rhythm summary, chooses the probe's L2 weight among
`probe.weight_decays` by track-grouped CV over `probe.folds` folds of those tracks
(window accuracy of each held-out fold), trains the probe on all of them with it, and saves
`probe/latest.pt` (the one checkpoint format: config, categories, contract, the probe's
weights, the tracks it read). One L-BFGS fit, no epochs; `musicscape export` puts it inside
music_encoder.onnx.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch

from training.checkpoint import save_checkpoint
from training.context import RunContext
from training.cross_validation import cv_hop_frames, stratified_track_folds
from training.data import DataSplit, MusicBank, check_every_category
from training.models.category_probe import CategoryProbe
from training.models.tonal_summary import SUMMARY_SCALE_FLOOR
from training.probe import (
    best_weight_decay,
    probe_probabilities,
    train_probe,
    weight_decay_accuracies,
    window_representations,
)

log = logging.getLogger(__name__)

PROBE_STAGE = "probe"


def probe_tracks(split: DataSplit, which: str) -> list[tuple[Path, int]]:
    """The (track, label) list the probe is fitted on: the encoder's training tracks
    ("training") or every labelled track of the split ("labelled"), in the split's order."""
    if which == "labelled":
        return split.train_tracks + split.validation_tracks
    return split.train_tracks


def run_probe_stage(ctx: RunContext) -> Path:
    config = ctx.config.probe
    categories = ctx.split.categories
    n_classes = len(categories)
    fitted_tracks = probe_tracks(ctx.split, config.tracks)
    music = MusicBank(fitted_tracks, ctx.cache, ctx.contract, ctx.split.skipped)
    check_every_category(f"the probe's {config.tracks} tracks", music.labels, categories)
    probe = CategoryProbe(ctx.contract, n_classes)
    vectors, labels, tracks = window_representations(
        music, cv_hop_frames(ctx.contract), {"summary": probe.summary}
    )
    summaries = vectors["summary"]  # [N, summary size]
    track_labels = dict(sorted(zip(map(str, music.paths), music.labels, strict=True)))
    folds = min(config.folds, len(track_labels))  # >= 2: every category has a track
    dealt = stratified_track_folds(list(track_labels.values()), folds, config.seed)
    track_fold = dict(zip(track_labels, dealt, strict=True))
    window_folds = np.asarray([track_fold[t] for t in tracks])
    cv_accuracy = weight_decay_accuracies(
        summaries, labels, window_folds, n_classes, config.weight_decays, SUMMARY_SCALE_FLOOR
    )
    weight_decay = best_weight_decay(cv_accuracy)
    mean, scale, linear = train_probe(
        summaries, labels, n_classes, weight_decay, scale_floor=SUMMARY_SCALE_FLOOR
    )
    with torch.no_grad():
        probe.mean.copy_(torch.from_numpy(mean))
        probe.scale.copy_(torch.from_numpy(scale))
        probe.linear.load_state_dict(linear.state_dict())
    training_accuracy = float(
        np.mean(probe_probabilities((mean, scale, linear), summaries).argmax(1) == labels)
    )
    log.info(
        "probe: %d windows of %d %s tracks; L2 %g chosen by %d-fold CV (window "
        "accuracy %s); accuracy on its training windows %.3f",
        len(labels),
        len(track_labels),
        config.tracks,
        weight_decay,
        folds,
        {key: round(value, 3) for key, value in cv_accuracy.items()},
        training_accuracy,
    )
    return save_checkpoint(
        ctx.stage_dir(PROBE_STAGE),
        {
            "stage": PROBE_STAGE,
            "config": ctx.config.to_dict(),
            "categories": list(categories),
            "contract": ctx.contract.to_dict(),
            "epoch": 1,
            "step": 0,
            "probe": probe.state_dict(),
            "weight_decay": weight_decay,
            "cv_accuracy": {str(key): value for key, value in cv_accuracy.items()},
            "training_accuracy": training_accuracy,
            "train_tracks": ctx.split.relative(fitted_tracks),
            "windows": len(labels),
        },
        epoch_done=False,
    )
