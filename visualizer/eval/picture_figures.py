"""Figures of the pictures themselves: how light and colour follow the music's feel and
what is asked (feel, attribute control), the checkerboard ratio, sample grids, and the
judge's view of real photos (diversity and Frechet distance references)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from visualizer.eval.config import (
    CHECKERBOARD_DRAWS,
    CHECKERBOARD_PHOTOS,
    CONTROL_STEPS,
    EvalConfig,
    EvaluationError,
)
from visualizer.eval.model_set import (
    ModelSet,
    attribute_requests,
    generate,
    generated_batches,
    judge_images,
)
from visualizer.feel import ColourTarget, colour_target, grade, requested_attributes
from visualizer.folders import IMAGE_EXTENSIONS, category_file_key, find_category_files
from visualizer.metrics import checkerboard_ratio, streak_ratios
from visualizer.photos import PhotoReadError, read_photo, split_photos
from visualizer.picture_attributes import ATTRIBUTE_NAMES, category_request, image_attributes
from visualizer.pixels import to_unit
from visualizer.upscale import Upscaler


def generated_attributes(
    models: ModelSet,
    features: np.ndarray,
    targets: list[ColourTarget],
    strength: float,
    seed: int,
    batch: int,
) -> np.ndarray:
    """[N, 4] raw attributes of one picture per feature row [N, D], its light and colour
    moved `strength` of the way toward its target as the app paints it: asked of a
    generator conditioned on picture attributes (`requested_attributes` from each row's
    category request), graded after drawing for one without them."""
    stats = models.attribute_stats
    if stats is None:
        batches = generated_batches(models, features, np.random.default_rng(seed), batch)
        images = (image for images in batches for image in images)  # one batch at a time
        return np.concatenate(
            [
                image_attributes(grade(image, target, strength)[None])
                for image, target in zip(images, targets, strict=True)
            ]
        )
    base = attribute_requests(models, features)  # [N, 4]
    asked = np.stack(
        [
            requested_attributes(row, target, strength, stats.mean, stats.spread)
            for row, target in zip(base, targets, strict=True)
        ]
    )
    rng = np.random.default_rng(seed)
    noise_dim = models.generator.metadata.noise_dim
    drawn = []
    for start in range(0, len(features), batch):
        chunk = features[start : start + batch]
        noise = rng.standard_normal((len(chunk), noise_dim)).astype(np.float32)
        drawn.append(image_attributes(generate(models, noise, chunk, asked[start : start + batch])))
    return np.concatenate(drawn)


def finite_or_none(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def zscore(values: np.ndarray) -> np.ndarray:
    return (values - values.mean()) / max(float(values.std()), 1e-12)


def feel_figures(
    models: ModelSet,
    features: np.ndarray,
    arousal: np.ndarray,
    valence: np.ndarray,
    config: EvalConfig,
) -> dict[str, Any]:
    """How the picture follows the music's feel at `config.feel_strength`:
    - music_to_picture_spearman: per window, Spearman's rank correlation between arousal +
      valence and z(L*) + z(C*) + z(b*) of a picture generated from the window's feature and
      graded toward the window's feel;
    - asked_vs_drawn: over `feel_settings` random (arousal, valence) settings spanning the
      feel's range, Pearson's r between the mean L*, C* and b* each setting asks for (the
      plain pictures' mean moved `strength` of the way to its target) and the mean drawn over
      `feel_draws` pictures of random windows."""
    from scipy.stats import pearsonr, spearmanr

    strength = config.feel_strength
    targets = [colour_target(a, v) for a, v in zip(arousal, valence, strict=True)]
    drawn = generated_attributes(models, features, targets, strength, config.seed, config.batch)
    picture = sum(zscore(drawn[:, i]) for i in range(3))  # lightness, chroma, yellowness
    music_to_picture = finite_or_none(spearmanr(arousal + valence, picture).statistic)

    rng = np.random.default_rng(config.seed + 1)
    rows = rng.integers(0, len(features), config.feel_draws)
    neutral = colour_target(0.0, 0.0)
    plain = generated_attributes(
        models, features[rows], [neutral] * len(rows), 0.0, config.seed, config.batch
    )
    plain_lab = plain[:, :3].mean(axis=0)
    asked, got = [], []
    for a, v in rng.uniform(-1.0, 1.0, (config.feel_settings, 2)):
        target = colour_target(a, v)
        graded = generated_attributes(
            models, features[rows], [target] * len(rows), strength, config.seed, config.batch
        )
        got.append(graded[:, :3].mean(axis=0))
        wanted = np.asarray([target.lightness, target.chroma, target.yellowness])
        asked.append((1.0 - strength) * plain_lab + strength * wanted)
    asked_array, got_array = np.asarray(asked), np.asarray(got)
    return {
        "strength": strength,
        "music_to_picture_spearman": music_to_picture,
        "arousal_mean": float(arousal.mean()),
        "valence_mean": float(valence.mean()),
        "asked_vs_drawn": {
            name: (
                finite_or_none(pearsonr(asked_array[:, i], got_array[:, i]).statistic)
                if np.ptp(asked_array[:, i]) > 1e-9
                else None  # strength 0 asks for nothing
            )
            for i, name in enumerate(("lightness", "chroma", "yellowness"))
        },
        "settings": config.feel_settings,
        "draws_per_setting": config.feel_draws,
    }


def sample_grid(
    models: ModelSet,
    features: np.ndarray,
    truth: np.ndarray,
    columns: int,
    seed: int,
    upscaler: Upscaler | None = None,
    size: int | None = None,
) -> np.ndarray:
    """uint8 [rows * N, columns * N, 3]: one row per category present in `truth` (encoder
    order), drawn from `columns` of its windows evenly spaced in track order, one seeded
    noise draw each; a category with fewer windows repeats them. Each picture is
    `upscaler.upscale(image, N)`, as the app shows it at N px (N = `size`, by default the
    generator's side; without an upscaler, a bicubic resize)."""
    if columns < 1:
        raise ValueError(f"a sample grid needs at least one column, got {columns}")
    upscaler = upscaler or Upscaler()
    size = size or models.generator.metadata.image_size
    rng = np.random.default_rng([seed, 7])
    rows = []
    for index in np.unique(truth):
        windows = np.flatnonzero(truth == index)
        chosen = windows[np.linspace(0, len(windows) - 1, columns).round().astype(int)]
        noise = rng.standard_normal((columns, models.generator.metadata.noise_dim))
        images = generate(models, noise, features[chosen])  # [columns, 3, S, S]
        pictures = [upscaler.upscale(image, size) for image in images]  # [N, N, 3] each
        rows.append(np.concatenate(pictures, axis=1))
    return np.concatenate(rows, axis=0)


def correlation(asked: np.ndarray, drawn: np.ndarray) -> float | None:
    """Pearson's r, or None when either side does not vary (nothing to correlate)."""
    from scipy.stats import pearsonr

    if np.ptp(asked) < 1e-9 or np.ptp(drawn) < 1e-9:
        return None
    return finite_or_none(pearsonr(asked, drawn).statistic)


def attribute_control_figures(
    models: ModelSet,
    features: np.ndarray,
    truth: np.ndarray,
    config: EvalConfig,
) -> dict[str, Any] | None:
    """How well a generator conditioned on picture attributes draws what it is asked (None
    for one without them). Settings: per category of `truth`, each attribute asked at every
    z of CONTROL_STEPS with the others at the category's mean (its `category_request`);
    each setting draws `control_draws` pictures from random windows of that category with
    fresh noise. Per attribute: Pearson's r between asked z and the mean drawn z over its
    settings (the issue's figure), the same over every draw, and the mean drawn z at each
    step (the slope of the response)."""
    stats = models.attribute_stats
    if stats is None:
        return None
    rng = np.random.default_rng([config.seed, 31])
    noise_dim = models.generator.metadata.noise_dim
    figures: dict[str, Any] = {}
    for index, name in enumerate(ATTRIBUTE_NAMES):
        asked_means, drawn_means, asked_all, drawn_all = [], [], [], []
        response: dict[str, list[float]] = {}
        for category in np.unique(truth):
            pool = np.flatnonzero(truth == category)
            base = category_request(np.eye(len(models.categories))[category], stats)  # [4]
            for step in CONTROL_STEPS:
                request = base.copy()
                request[index] = step
                rows = features[pool[rng.integers(len(pool), size=config.control_draws)]]
                drawn = []
                for start in range(0, len(rows), max(config.batch, 64)):
                    chunk = rows[start : start + max(config.batch, 64)]
                    noise = rng.standard_normal((len(chunk), noise_dim))
                    asked = np.repeat(request[None], len(chunk), axis=0)
                    images = generate(models, noise, chunk, asked)
                    drawn.append(stats.to_z(image_attributes(images))[:, index])
                got = np.concatenate(drawn)
                asked_means.append(step)
                drawn_means.append(float(got.mean()))
                asked_all.append(np.full(len(got), step))
                drawn_all.append(got)
                response.setdefault(f"{step:+.2f}", []).append(float(got.mean()))
        every_asked, every_drawn = np.concatenate(asked_all), np.concatenate(drawn_all)
        figures[name] = {
            "pearson_r": correlation(np.asarray(asked_means), np.asarray(drawn_means)),
            "pearson_r_per_draw": correlation(every_asked, every_drawn),
            "drawn_mean_z_per_step": {
                step: float(np.mean(values)) for step, values in response.items()
            },
        }
    return {
        "attributes": figures,
        "steps_z": list(CONTROL_STEPS),
        "categories": [models.categories[c] for c in np.unique(truth)],
        "draws_per_setting": config.control_draws,
        "targets": {"lightness": 0.9, "chroma": 0.9, "yellowness": 0.8},
    }


def checkerboard_figures(
    models: ModelSet, seed: int, scenes_dir: Path | None = None
) -> dict[str, Any]:
    """`checkerboard_ratio` and `streak_ratios` of CHECKERBOARD_DRAWS pictures per category
    drawn from its prototype (noise seed `seed`), and of up to CHECKERBOARD_PHOTOS held-out
    real photos at the generator's size for reference when `scenes_dir` is given."""
    prototypes = np.asarray(models.encoder.metadata.category_prototypes, dtype=np.float32)
    if not len(prototypes):
        return {"generated": None, "reason": "the encoder's metadata has no prototypes"}
    rng = np.random.default_rng(seed)
    features = np.repeat(prototypes, CHECKERBOARD_DRAWS, axis=0)
    noise = rng.standard_normal((len(features), models.generator.metadata.noise_dim))
    images = np.concatenate(
        [
            generate(models, noise[start : start + 64], features[start : start + 64])
            for start in range(0, len(features), 64)
        ]
    )
    vertical, horizontal = streak_ratios(images)
    result: dict[str, Any] = {
        "generated": checkerboard_ratio(images),
        "images": int(len(images)),
        "target": 1.5,
        "streaks": {"vertical": vertical, "horizontal": horizontal},
    }
    if scenes_dir is not None:
        size = models.generator.metadata.image_size
        found = find_category_files(Path(scenes_dir), IMAGE_EXTENSIONS)
        held_out = [p for name in found.categories for p in split_photos(found.files[name])[1]]
        chosen = held_out
        if len(held_out) > CHECKERBOARD_PHOTOS:
            spaced = np.linspace(0, len(held_out) - 1, CHECKERBOARD_PHOTOS).round().astype(int)
            chosen = [held_out[i] for i in spaced]
        pixels = []
        for path in chosen:
            try:
                pixels.append(read_photo(path, size))
            except PhotoReadError:
                continue
        if pixels:
            photos = np.stack(pixels).transpose(0, 3, 1, 2)
            result["real_photos"] = checkerboard_ratio(photos)
            vertical, horizontal = streak_ratios(photos)
            result["real_photos_streaks"] = {"vertical": vertical, "horizontal": horizontal}
            result["photos"] = len(pixels)
    return result


@dataclass
class RealPhotos:
    features: np.ndarray  # judge features [N, D]
    labels: np.ndarray  # category index (encoder order) [N]
    judged: np.ndarray  # the judge's category index (encoder order) [N]
    source: str  # "held-out" (the judge's) or "all"
    skipped: list[dict[str, str]]


def judge_real_photos(scenes_dir: Path, models: ModelSet, batch: int) -> RealPhotos:
    """Judge features of the real photos: the judge's held-out ones when listed, else all."""
    found = find_category_files(scenes_dir, IMAGE_EXTENSIONS)
    held_out = models.judge.metadata.training_data.get("validation_photos")
    wanted = None
    if isinstance(held_out, list):
        wanted = {category_file_key(entry) for entry in held_out}
    photos = [
        (path, models.categories.index(name))
        for name in found.categories
        if name in models.categories
        for path in found.files[name]
    ]
    source = "all"
    if wanted is not None:
        listed = [(p, c) for p, c in photos if category_file_key(p) in wanted]
        if listed:
            photos, source = listed, "held-out"
    if not photos:
        raise EvaluationError(
            f"{scenes_dir}: no photos in the model's categories {list(models.categories)}"
        )
    size = models.judge.metadata.image_size
    skipped, pixels, labels = [], [], []
    for path, label in photos:
        try:
            pixels.append(read_photo(path, size))
            labels.append(label)
        except PhotoReadError as error:
            skipped.append({"path": str(path), "reason": str(error)})
    features, judged = [], []
    for start in range(0, len(pixels), batch):
        images = to_unit(np.stack(pixels[start : start + batch]).transpose(0, 3, 1, 2))
        category, feature = judge_images(models, np.ascontiguousarray(images))
        judged.append(category)
        features.append(feature)
    return RealPhotos(
        np.concatenate(features), np.asarray(labels), np.concatenate(judged), source, skipped
    )
