"""Measuring an exported model directory on folders of music, with ONNX Runtime only.

For every 16-s window (hop 8 s: `window_hop_fraction` of a window) of every track under
`<music>/<category>/`:

- retrieval: the category whose image-embedding centroid scores highest in the encoder's
  "category_scores";
- generation: the judge's category for `draws_per_window` images generated from the
  window's feature with seeded noise (each draw counts).

Figures: retrieval accuracy per category; the generation confusion matrix (rows = music
category, columns = judge's category, counts, as the paper's Table 1); diversity (mean
pairwise distance of judge features among generated images of one category over the same
among real photos of that category, averaged over categories); fid_judge (Frechet distance
between generated and real photos in the judge's feature space; "fid_judge_mix_matched" the
same with the photos weighted to the music's category mix, and "fid_judge_mix_floor" what
fid_judge would be for pictures that were real photos in that mix); centroid_accuracy (the
judge's accuracy on images generated from each category's mean music feature); stability
(share of consecutive windows of one track with the same retrieval category).

A generator conditioned on picture attributes (an "attributes" input) is asked, at every
draw, for the typical light and colour of the category its feature scores as
(`category_request` of softmax(scores / the pull temperature)), as the app asks when no feel
is set; `attribute_control` then measures how well it draws what it is asked, and
`checkerboard` the diagonal period-2 peak of its pictures' power spectrum (any generator).

Retrieval and generation read each window's feature through the app's scene memory (the
model's `scene_memory_seconds`, or `EvalConfig.scene_memory_seconds`), fed the windows of a
track in order, one hop apart: the figures are those of the scenes the app shows.
"per_window" holds retrieval accuracy, shares and stability of the windows alone.

No torch here: onnxruntime is imported where sessions are made, Pillow where photos are read.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from visualizer.eval.config import SAMPLE_COLUMNS, EvalConfig, EvaluationError
from visualizer.eval.model_set import generate_and_judge, load_model_set
from visualizer.eval.picture_figures import (
    attribute_control_figures,
    checkerboard_figures,
    feel_figures,
    judge_real_photos,
    sample_grid,
)
from visualizer.eval.tracks import encode_tracks, heard_by_probe, select_tracks
from visualizer.metrics import (
    accuracy_per_category,
    frechet_distance,
    mean_pairwise_distance,
    mix_weights,
)
from visualizer.upscale import load_upscaler


def stability(per_track: list[np.ndarray]) -> float | None:
    """Share of consecutive window pairs within a track with the same category
    (`per_track`: each track's category per window)."""
    same = sum(int(np.sum(chosen[1:] == chosen[:-1])) for chosen in per_track)
    pairs = sum(max(len(chosen) - 1, 0) for chosen in per_track)
    return same / pairs if pairs else None


def _chosen_share(chosen: np.ndarray, categories: tuple[str, ...]) -> dict[str, float]:
    """Share of all answers that went to each category (a collapse shows as a share near 0)."""
    counts = np.bincount(chosen, minlength=len(categories))
    return {name: float(counts[i] / max(len(chosen), 1)) for i, name in enumerate(categories)}


def evaluate(
    models_dir: Path,
    music_dirs: Path | list[Path],
    scenes_dir: Path | None = None,
    subset: str = "all",
    config: EvalConfig | None = None,
    samples_path: Path | None = None,
) -> dict[str, Any]:
    """Every figure of `musicscape eval` as a JSON-ready dict (see the module docstring).

    `music_dirs`: one or more folders of `<category>/<track>` files, evaluated together.
    `samples_path`: also write a PNG grid of generated images (`sample_grid`, 8 columns),
    each at `config.sample_size` as the app shows it (the directory's upscaler) when set.
    """
    config = config or EvalConfig()
    started = time.monotonic()
    models = load_model_set(models_dir, config.threads)
    # the directory's upscaler only matters for samples at a display size; loaded (and a bad
    # file refused) before anything is measured
    sample_upscaler = None
    if samples_path is not None and config.sample_size is not None:
        sample_upscaler = load_upscaler(models_dir, threads=max(config.threads, 1))
    categories = models.categories
    if isinstance(music_dirs, (str, Path)):
        music_dirs = [music_dirs]
    music_dirs = [Path(folder) for folder in music_dirs]
    tracks, skipped_files = [], []
    for folder in music_dirs:
        found, skipped = select_tracks(folder, models, subset)
        tracks += found
        skipped_files += skipped
    music_dir = ", ".join(str(folder) for folder in music_dirs)
    if not tracks:
        raise EvaluationError(f"{music_dir}: no tracks to evaluate for subset {subset!r}")
    memory_seconds = (
        models.encoder.metadata.scene_memory_seconds
        if config.scene_memory_seconds is None
        else config.scene_memory_seconds
    )
    music = encode_tracks(tracks, models, config, memory_seconds)
    if not music.tracks:
        raise EvaluationError(
            f"{music_dir}: none of the {len(tracks)} tracks could be read "
            f"(first: {music.skipped[0]['reason']})"
        )
    features = np.concatenate([t.features for t in music.tracks])
    truth = np.concatenate([np.full(len(t.retrieved), t.category) for t in music.tracks])
    retrieved = np.concatenate([t.retrieved for t in music.tracks])
    window_retrieved = np.concatenate([t.window_retrieved for t in music.tracks])
    feel = feel_figures(
        models,
        features,
        np.concatenate([t.arousal for t in music.tracks]),
        np.concatenate([t.valence for t in music.tracks]),
        config,
    )

    attribute_control = attribute_control_figures(models, features, truth, config)
    checkerboard = checkerboard_figures(models, config.seed + 1, scenes_dir)

    rng = np.random.default_rng(config.seed)
    draws = config.draws_per_window
    generated, generated_features = generate_and_judge(models, features, draws, rng, config.batch)
    generated_truth = np.repeat(truth, draws)
    confusion = np.zeros((len(categories), len(categories)), dtype=np.int64)
    np.add.at(confusion, (generated_truth, generated), 1)

    centroid_truth, centroid_judged = [], []
    for index in np.unique(truth):
        centroid = features[truth == index].mean(axis=0, keepdims=True)
        judged, _ = generate_and_judge(models, centroid, config.centroid_draws, rng, config.batch)
        centroid_truth.append(np.full(len(judged), index))
        centroid_judged.append(judged)
    centroid_truth_all = np.concatenate(centroid_truth)
    centroid_judged_all = np.concatenate(centroid_judged)

    if samples_path is not None:
        from PIL import Image

        grid = sample_grid(
            models,
            features,
            truth,
            SAMPLE_COLUMNS,
            config.seed,
            sample_upscaler,
            config.sample_size,
        )
        Path(samples_path).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(grid).save(samples_path)

    diversity = fid = fid_mix_matched = fid_mix_floor = None
    diversity_per_category: dict[str, float] = {}
    real_summary: dict[str, Any] | None = None
    if scenes_dir is not None:
        real = judge_real_photos(Path(scenes_dir), models, config.batch)
        for index in np.unique(generated_truth):
            real_rows = real.features[real.labels == index]
            if len(real_rows) < 2:
                continue
            ratio = mean_pairwise_distance(
                generated_features[generated_truth == index], config.pairwise_sample, rng
            ) / mean_pairwise_distance(real_rows, config.pairwise_sample, rng)
            diversity_per_category[categories[index]] = ratio
        if diversity_per_category:
            diversity = float(np.mean(list(diversity_per_category.values())))
        try:
            fid = frechet_distance(generated_features, real.features)
        except ValueError as error:
            raise EvaluationError(f"{scenes_dir}: {error}") from error
        music_mix = np.bincount(generated_truth, minlength=len(categories)) / len(generated_truth)
        try:
            photo_weights = mix_weights(real.labels, music_mix)
        except ValueError:  # a category of the music has no photos: none give its mix
            pass
        else:
            fid_mix_matched = frechet_distance(generated_features, real.features, photo_weights)
            fid_mix_floor = frechet_distance(real.features, real.features, photo_weights)
        real_summary = {
            "photos": int(len(real.labels)),
            "source": real.source,
            "judge_accuracy": float(np.mean(real.judged == real.labels)),
            "judge_per_category": accuracy_per_category(real.labels, real.judged, categories),
            "skipped": real.skipped,
        }

    return {
        "categories": list(categories),
        "windows": int(len(truth)),
        "tracks": len(music.tracks),
        "subset": subset,
        "skipped_tracks": skipped_files + music.skipped,
        "nonfinite_tracks": music.nonfinite,
        "heard_by_probe": heard_by_probe(tracks, models.encoder.metadata),
        "retrieval": {
            "accuracy": float(np.mean(retrieved == truth)),
            "per_category": accuracy_per_category(truth, retrieved, categories),
            "chosen_share": _chosen_share(retrieved, categories),
        },
        "generation": {
            "accuracy": float(np.trace(confusion) / confusion.sum()),
            "per_category": accuracy_per_category(generated_truth, generated, categories),
            "chosen_share": _chosen_share(generated, categories),
            "confusion": confusion.tolist(),
            "draws_per_window": draws,
            "diversity": diversity,
            "diversity_per_category": diversity_per_category,
            "fid_judge": fid,
            "fid_judge_mix_matched": fid_mix_matched,
            "fid_judge_mix_floor": fid_mix_floor,
            "centroid_accuracy": float(np.mean(centroid_judged_all == centroid_truth_all)),
            "centroid_per_category": accuracy_per_category(
                centroid_truth_all, centroid_judged_all, categories
            ),
            "centroid_draws": config.centroid_draws,
            "stability": stability([t.retrieved for t in music.tracks]),
        },
        "feel": feel,
        "attribute_control": attribute_control,
        "checkerboard": checkerboard,
        "scene_memory_seconds": memory_seconds,
        "per_window": {
            "retrieval_accuracy": float(np.mean(window_retrieved == truth)),
            "retrieval_chosen_share": _chosen_share(window_retrieved, categories),
            "stability": stability([t.window_retrieved for t in music.tracks]),
        },
        "real_photos": real_summary,
        "models": str(models_dir),
        "samples": None if samples_path is None else str(samples_path),
        "seconds": round(time.monotonic() - started, 1),
    }
