"""`musicscape train --cv K`: the embedding stage, or the pretrained encoder, cross-validated
by track.

Fold f trains the embedding (its config as for a normal run) on every labelled track not
dealt to f, in `<out>/fold_<f>/` (each fold checkpoints and resumes like a run), then scores
windows of its held-out tracks, every half window, against the image prototypes of its
training photos: raw (retrieval as the embed stage measures it) and centred on its
training tracks' mean feature (as the shipped models score, see GanStageConfig), each for
the window alone and read through the app's scene memory (each track's windows in order,
`DEFAULT_SCENE_MEMORY_SECONDS`, as `musicscape eval` reads them). The pooled figures go to
`<out>/cv.json`; each fold's held-out scores, window by window, to
`<out>/fold_<f>/held_out_scores.npz`, so that other read-outs (a probe beside the
encoder, another memory) can be cross-validated on the same folds without encoding again.

Folds are independent, so they can run side by side: `only_folds` trains and scores those
folds alone and pools nothing; a later run over every fold finds them finished (their
checkpoints at the last epoch) and only pools. `epoch` scores every fold's checkpoint of
that epoch instead (each epoch is kept), training nothing, into `cv_epoch_<NNN>.json`, so
checkpoints are compared by CV too.

Beside the encoder, the same windows are read by the key-blind tonal and rhythm summary's
probe (`training.probe`; its L2 weight chosen inside each fold): its log-probabilities
alone (`tonal_probe`) and `probe.blend_weight` times them added to the encoder's centred
scores (`centred_and_tonal_probe`: the blend the exported encoder carries, see
training.models.category_probe), and the same at each weight of PROBE_BLEND_SWEEP
(`centred_and_tonal_probe_x<weight>`, to choose the weight by), each window alone and
through the scene memory (`_memory`).
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import numpy as np
import torch

from training.checkpoint import epoch_file, load_checkpoint
from training.config import TrainConfig
from training.context import RunContext
from training.cross_validation import (
    FoldPredictions,
    cv_figures,
    cv_hop_frames,
    fold_splits,
    remembered_choices,
    write_cv_json,
)
from training.data import DataSplit, ImageBank, MusicBank
from training.embed_stage import run_embed_stage
from training.embedding import JointEmbedding, image_centroids
from training.models.category_probe import PROBABILITY_FLOOR
from training.models.tonal_summary import SUMMARY_SCALE_FLOOR, TonalRhythmSummary
from training.probe import probe_cv, window_representations
from visualizer.scene_memory import DEFAULT_SCENE_MEMORY_SECONDS

log = logging.getLogger(__name__)

CV_FILE = "cv.json"
HELD_OUT_SCORES_FILE = "held_out_scores.npz"


def window_features(model: JointEmbedding, bank: MusicBank, device) -> tuple[list, list]:
    """Per track of `bank`: features [windows, D] of its windows every `cv_hop_frames`, and
    the track's label."""
    vectors, _, window_tracks = window_representations(
        bank, cv_hop_frames(bank.contract), {"music": model.music}, device=device
    )
    features = torch.from_numpy(vectors["music"])
    per_track = [features[[t == str(path) for t in window_tracks]] for path in bank.paths]
    return per_track, list(bank.labels)


SCORINGS = ("retrieval", "retrieval_centred", "retrieval_memory", "retrieval_centred_memory")


def cv_file(epoch: int | None) -> str:
    return CV_FILE if epoch is None else f"cv_epoch_{epoch:03d}.json"


def held_out_scores_file(epoch: int | None) -> str:
    return HELD_OUT_SCORES_FILE if epoch is None else f"held_out_scores_epoch_{epoch:03d}.npz"


def fold_predictions(
    ctx: RunContext, checkpoint: Path, scores_file: str = HELD_OUT_SCORES_FILE
) -> dict[str, FoldPredictions]:
    """Predictions for the held-out tracks of the fold `ctx` trains on, per scoring of
    `SCORINGS`: raw or centred, each window alone or through the scene memory; the scores
    go to `scores_file` in the fold's folder."""
    device = ctx.process.device
    saved = load_checkpoint(checkpoint, "embed")
    config = TrainConfig.from_dict(saved["config"]).embed  # the checkpoint's own
    model = JointEmbedding(config).to(device)
    model.load_state_dict(saved["model"])
    skipped = ctx.split.skipped
    images = ImageBank(ctx.split.train_images, config.image.image_size, skipped)
    prototypes = image_centroids(model.image, images, len(ctx.split.categories), device).cpu()
    train_features, _ = window_features(
        model, MusicBank(ctx.split.train_tracks, ctx.cache, ctx.contract, skipped), device
    )
    centre = torch.stack([f.mean(0) for f in train_features]).mean(0)  # each track counts once
    held = MusicBank(ctx.split.validation_tracks, ctx.cache, ctx.contract, skipped)
    held_features, labels = window_features(model, held, device)
    features = torch.cat(held_features)
    window_labels = np.concatenate(
        [np.full(len(f), label) for f, label in zip(held_features, labels, strict=True)]
    )
    tracks = [str(held.paths[t]) for t, f in enumerate(held_features) for _ in range(len(f))]
    raw = (features @ prototypes.T).numpy()
    centred = ((features - centre) @ (prototypes - centre).T).numpy()
    np.savez(
        ctx.run_dir / scores_file,
        raw=raw,
        centred=centred,
        labels=window_labels,
        tracks=np.asarray(tracks),
    )
    hop_seconds = cv_hop_frames(ctx.contract) * ctx.contract.frame_seconds
    chosen = {
        "retrieval": raw.argmax(1),
        "retrieval_centred": centred.argmax(1),
        "retrieval_memory": remembered_choices(
            raw, tracks, DEFAULT_SCENE_MEMORY_SECONDS, hop_seconds
        ),
        "retrieval_centred_memory": remembered_choices(
            centred, tracks, DEFAULT_SCENE_MEMORY_SECONDS, hop_seconds
        ),
    }
    return {name: FoldPredictions(window_labels, chosen[name], tracks) for name in SCORINGS}


# Blend weights read out beside the config's (`probe.blend_weight`), to choose it by CV.
PROBE_BLEND_SWEEP = (0.1, 0.2, 0.3, 0.5, 1.0, 2.0)
PROBE_READOUTS = (
    "tonal_probe",
    "centred_and_tonal_probe",
    *(f"centred_and_tonal_probe_x{weight:g}" for weight in PROBE_BLEND_SWEEP),
)
PROBE_SCORINGS = tuple(name + suffix for name in PROBE_READOUTS for suffix in ("", "_memory"))


def window_keys(tracks: list[str]) -> list[tuple[str, int]]:
    """Per window (in order, each named by its track): (track, its place among that track's
    windows), which finds the same window in another list of the same tracks' windows."""
    seen: dict[str, int] = {}
    keys = []
    for track in tracks:
        keys.append((track, seen.get(track, 0)))
        seen[track] = seen.get(track, 0) + 1
    return keys


def tonal_probe_predictions(
    ctx: RunContext, folds: list[DataSplit], score_files: list[Path]
) -> tuple[dict[str, list[FoldPredictions]], list[float]]:
    """The probe read-outs of the module docstring on the windows of each fold's
    `score_files` (what `fold_predictions` saved for the fold splits `folds`, in order):
    (predictions per read-out of `PROBE_SCORINGS`, one FoldPredictions per fold; the L2
    weight each fold chose)."""
    track_fold = {
        str(path): f for f, split in enumerate(folds) for path, _ in split.validation_tracks
    }
    bank = MusicBank(
        sorted(ctx.split.train_tracks + ctx.split.validation_tracks),
        ctx.cache,
        ctx.contract,
        ctx.split.skipped,
    )
    hop_frames = cv_hop_frames(ctx.contract)
    vectors, labels, window_tracks = window_representations(
        bank, hop_frames, {"summary": TonalRhythmSummary(ctx.contract)}
    )
    probed = probe_cv(
        vectors["summary"],
        labels,
        window_tracks,
        track_fold,
        len(ctx.split.categories),
        ctx.config.probe.weight_decays,
        SUMMARY_SCALE_FLOOR,
    )
    log_probabilities = np.log(np.maximum(probed.probabilities, PROBABILITY_FLOOR))
    row_of = {key: row for row, key in enumerate(window_keys(window_tracks))}
    hop_seconds = hop_frames * ctx.contract.frame_seconds
    predictions: dict[str, list[FoldPredictions]] = {name: [] for name in PROBE_SCORINGS}
    for score_file in score_files:
        saved = np.load(score_file)
        tracks = saved["tracks"].tolist()
        probe_scores = log_probabilities[[row_of[key] for key in window_keys(tracks)]]
        blend_weights = {"centred_and_tonal_probe": ctx.config.probe.blend_weight} | {
            f"centred_and_tonal_probe_x{weight:g}": weight for weight in PROBE_BLEND_SWEEP
        }
        readouts = {"tonal_probe": probe_scores} | {
            name: saved["centred"] + weight * probe_scores for name, weight in blend_weights.items()
        }
        for name, scores in readouts.items():
            remembered = remembered_choices(
                scores, tracks, DEFAULT_SCENE_MEMORY_SECONDS, hop_seconds
            )
            predictions[name].append(FoldPredictions(saved["labels"], scores.argmax(1), tracks))
            predictions[f"{name}_memory"].append(
                FoldPredictions(saved["labels"], remembered, tracks)
            )
    return predictions, probed.chosen_weight_decays


def run_embed_cv(
    ctx: RunContext, k: int, only_folds: tuple[int, ...] = (), epoch: int | None = None
) -> dict | None:
    """Train and score every fold (resuming finished ones), write cv.json, return it; with
    `only_folds`, train and score those folds alone and return None; with `epoch`, train
    nothing and score every fold's checkpoint of that epoch (`cv_epoch_<NNN>.json`)."""
    outside = [fold for fold in only_folds if not 0 <= fold < k]
    if outside:
        raise ValueError(f"folds {outside} are not among the {k} folds 0-{k - 1}")
    predictions: dict[str, list[FoldPredictions]] = {name: [] for name in SCORINGS}
    score_files = []
    folds = fold_splits(ctx.split, k, ctx.config.data.seed)
    for fold, split in enumerate(folds):
        if only_folds and fold not in only_folds:
            continue
        fold_ctx = dataclasses.replace(ctx, run_dir=ctx.run_dir / f"fold_{fold}", split=split)
        if epoch is None:
            fold_ctx.run_dir.mkdir(parents=True, exist_ok=True)
            fold_ctx.write_run_info()
            log.info(
                "cv fold %d/%d: %d training tracks, %d held out",
                fold + 1,
                k,
                len(split.train_tracks),
                len(split.validation_tracks),
            )
            checkpoint = run_embed_stage(fold_ctx)
        else:
            checkpoint = fold_ctx.stage_dir("embed") / epoch_file(epoch)
            if not checkpoint.is_file():
                raise FileNotFoundError(f"{checkpoint}: fold {fold} has no epoch {epoch}")
        scores_file = held_out_scores_file(epoch)
        fold_result = fold_predictions(fold_ctx, checkpoint, scores_file)
        score_files.append(fold_ctx.run_dir / scores_file)
        for name, fold_prediction in fold_result.items():
            predictions[name].append(fold_prediction)
        log.info(
            "cv fold %d: held-out window accuracy %s",
            fold + 1,
            ", ".join(
                f"{name} {np.mean(p.chosen == p.labels):.3f}" for name, p in fold_result.items()
            ),
        )
    if only_folds:
        return None
    probe_predictions, chosen_weight_decays = tonal_probe_predictions(ctx, folds, score_files)
    predictions.update(probe_predictions)
    categories = ctx.split.categories
    figures = {name: cv_figures(per_fold, categories) for name, per_fold in predictions.items()}
    write_cv_json(
        ctx.run_dir / cv_file(epoch),
        figures,
        {
            "k": k,
            "seed": ctx.config.data.seed,
            "epoch": ctx.config.embed.epochs if epoch is None else epoch,
            "scene_memory_seconds": DEFAULT_SCENE_MEMORY_SECONDS,
            "tonal_probe_weight_decays": chosen_weight_decays,
            "tonal_probe_blend_weight": ctx.config.probe.blend_weight,
            "config": ctx.config.to_dict(),
        },
    )
    return figures


def run_pretrain_cv(ctx: RunContext, k: int, draws: int = 1) -> dict:
    """Pretrain (or finish pretraining) in `<out>/pretrain/`, then probe CV of its frozen
    encoder beside a random encoder of the same config and the two summaries, the tracks
    dealt into folds `draws` times (`training.probe.probe_cv_draws`)."""
    from training.models import MusicEncoder
    from training.pretrain_stage import run_pretrain_stage
    from training.probe import PROBE_WEIGHT_DECAYS, probe_report

    checkpoint = run_pretrain_stage(ctx)
    music_config = ctx.config.embed.music
    torch.manual_seed(ctx.config.seed)
    random_encoder = MusicEncoder(music_config)
    pretrained = MusicEncoder(music_config)
    pretrained.load_state_dict(load_checkpoint(checkpoint, "pretrain")["music_encoder"])
    figures = probe_report(
        ctx, k, {"random_encoder": random_encoder, "pretrained_encoder": pretrained}, draws
    )
    write_cv_json(
        ctx.run_dir / CV_FILE,
        figures,
        {
            "k": k,
            "seed": ctx.config.data.seed,
            "draws": draws,
            "probe_weight_decays": list(PROBE_WEIGHT_DECAYS),
            "scene_memory_seconds": DEFAULT_SCENE_MEMORY_SECONDS,
            "config": ctx.config.to_dict(),
        },
    )
    return figures
