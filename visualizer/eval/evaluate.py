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
between generated and real photos in the judge's feature space); centroid_accuracy (the
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

import itertools
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.linalg

from visualizer.feel import (
    DEFAULT_FEEL_STRENGTH,
    MAX_FEEL_STRENGTH,
    ColourTarget,
    colour_target,
    grade,
    requested_attributes,
)
from visualizer.folders import (
    AUDIO_EXTENSIONS,
    IMAGE_EXTENSIONS,
    DataLayoutError,
    find_category_files,
)
from visualizer.frontend import (
    AudioDecodeError,
    AudioFileReader,
    FrontEndContract,
    analyse_blocks,
    analyse_window,
)
from visualizer.frontend.descriptors import DescriptorAnalyser
from visualizer.metrics import accuracy_per_category, checkerboard_ratio
from visualizer.model_files import (
    ENCODER_FILE,
    GENERATOR_FILE,
    JUDGE_FILE,
    ModelFileError,
)
from visualizer.model_sessions import (
    ModelSession,
    check_encoder,
    check_generator,
    check_judge,
    has_attributes,
    open_model,
)
from visualizer.photos import PhotoReadError, read_photo, split_photos
from visualizer.picture_attributes import (
    ATTRIBUTE_NAMES,
    AttributeStats,
    category_request,
    image_attributes,
)
from visualizer.pixels import to_uint8, to_unit
from visualizer.resize import resize_planes
from visualizer.scene_memory import remembered_sequence

log = logging.getLogger(__name__)

SUBSETS = ("all", "train", "validation")
STREAM_BLOCK_SAMPLES = 1 << 18  # samples decoded and analysed at a time (12 s)


class EvaluationError(ValueError):
    """The evaluation cannot run on these inputs; the message says why."""


SAMPLE_COLUMNS = 8
DEFAULT_PULL_TEMPERATURE = 0.02  # training.models.gan.CATEGORY_PULL_TEMPERATURE
CONTROL_STEPS = (-1.5, -0.75, 0.0, 0.75, 1.5)  # z-units each attribute is asked for
CHECKERBOARD_DRAWS = 32  # per category, from its prototype
CHECKERBOARD_PHOTOS = 512  # real photos the reference ratio is measured on, at most


@dataclass(frozen=True)
class EvalConfig:
    draws_per_window: int = 4
    centroid_draws: int = 256  # per category: one judge mistake moves the figure by 0.1%
    window_hop_fraction: float = 0.5  # hop between windows, as a share of the window (8 s of 16)
    seed: int = 0
    # Windows per encoder run, images per generator and judge run: each costs ~20 MB with the
    # shipped models, so eval stays under 512 MB RSS.
    batch: int = 4
    pairwise_sample: int = 1000  # items per category for mean pairwise distances
    threads: int = 0  # ONNX Runtime intra-op threads; 0 = its default
    scene_memory_seconds: float | None = None  # None: the model's; 0: each window alone
    feel_strength: float = DEFAULT_FEEL_STRENGTH  # the grade feel figures are measured at
    feel_settings: int = 16  # random (arousal, valence) settings for asked-vs-drawn
    feel_draws: int = 256  # generated images per setting
    control_draws: int = 256  # generated images per attribute-control setting

    def __post_init__(self) -> None:
        if self.draws_per_window < 1 or self.centroid_draws < 1 or self.batch < 1:
            raise ValueError("draws_per_window, centroid_draws and batch must be at least 1")
        if not 0 < self.window_hop_fraction <= 1:
            raise ValueError(f"window_hop_fraction must be in (0, 1]: {self.window_hop_fraction}")
        if self.threads < 0:
            raise ValueError(f"threads must be >= 0 (0: ONNX Runtime's choice), got {self.threads}")
        if self.pairwise_sample < 2:
            raise ValueError(f"pairwise_sample must be at least 2: {self.pairwise_sample}")
        if not 0.0 <= self.feel_strength <= MAX_FEEL_STRENGTH:
            raise ValueError(f"feel_strength must be in [0, {MAX_FEEL_STRENGTH}]")
        if self.feel_settings < 3 or self.feel_draws < 1:
            raise ValueError("feel_settings must be at least 3 and feel_draws at least 1")
        if self.control_draws < 2:
            raise ValueError(f"control_draws must be at least 2, got {self.control_draws}")
        memory = self.scene_memory_seconds
        if memory is not None and not 0.0 <= memory < float("inf"):
            raise ValueError(f"scene_memory_seconds must be a finite number >= 0: {memory}")


@dataclass
class ModelSet:
    encoder: ModelSession
    generator: ModelSession
    judge: ModelSession
    # The stats of the picture attributes the generator is conditioned on; None: it has none.
    attribute_stats: AttributeStats | None = None

    @property
    def pull_temperature(self) -> float:
        """The soft category pull's temperature the generator was exported with."""
        value = self.generator.metadata.training_data.get("category_pull_temperature")
        if isinstance(value, int | float) and value > 0:
            return float(value)
        return DEFAULT_PULL_TEMPERATURE

    @property
    def categories(self) -> tuple[str, ...]:
        return self.encoder.metadata.categories

    @property
    def contract(self) -> FrontEndContract:
        return self.encoder.metadata.frontend


def load_model_set(models_dir: Path, threads: int) -> ModelSet:
    """The three models of an exported directory, checked against each other."""
    models_dir = Path(models_dir)
    if not models_dir.is_dir():
        raise ModelFileError(f"{models_dir}: no such model directory")
    encoder = open_model(models_dir / ENCODER_FILE, threads=threads)
    generator = open_model(models_dir / GENERATOR_FILE, threads=threads)
    judge = open_model(models_dir / JUDGE_FILE, threads=threads)
    check_encoder(encoder)
    check_generator(generator, encoder)
    check_judge(judge)
    categories = encoder.metadata.categories
    if sorted(judge.metadata.categories) != sorted(categories):
        raise ModelFileError(
            f"{judge.name}: categories {list(judge.metadata.categories)} differ from the "
            f"encoder's {list(categories)}"
        )
    stats = generator.metadata.attribute_stats() if has_attributes(generator) else None
    return ModelSet(encoder, generator, judge, stats)


def attribute_requests(models: ModelSet, features: np.ndarray) -> np.ndarray:
    """[B, 4] z-units: for each feature row, the typical light and colour of the categories
    it scores as, weighted by softmax(scores / the pull temperature) (`category_request`)."""
    prototypes = np.asarray(
        models.encoder.metadata.category_prototypes
        or models.generator.metadata.category_prototypes,
        dtype=np.float64,
    )
    if not len(prototypes):  # nothing to score against: every category alike
        weights = np.full((len(features), len(models.categories)), 1.0 / len(models.categories))
        return category_request(weights, models.attribute_stats)
    scores = features.astype(np.float64) @ prototypes.T / models.pull_temperature  # [B, C]
    weights = np.exp(scores - scores.max(axis=1, keepdims=True))
    weights /= weights.sum(axis=1, keepdims=True)
    return category_request(weights, models.attribute_stats)


def generate(
    models: ModelSet,
    noise: np.ndarray,
    features: np.ndarray,
    attributes: np.ndarray | None = None,
) -> np.ndarray:
    """The generator's images [B, 3, S, S] for noise [B, noise_dim] and features [B, D]; a
    generator with an "attributes" input is asked for `attributes` [B, 4] (z-units), by
    default the category request of each feature (`attribute_requests`)."""
    feeds = {"noise": noise.astype(np.float32), "feature": features.astype(np.float32)}
    if models.attribute_stats is not None:
        if attributes is None:
            attributes = attribute_requests(models, features)
        feeds["attributes"] = np.asarray(attributes, dtype=np.float32)
    (images,) = models.generator.run(["image"], feeds)
    return images


@dataclass
class TrackResult:
    path: Path
    category: int  # music category index (encoder order)
    features: np.ndarray  # [W, feature_dim] through the scene memory
    retrieved: np.ndarray  # [W] category index per window, through the scene memory
    window_retrieved: np.ndarray  # [W] category index of each window alone
    arousal: np.ndarray  # [W] the music's feel per window (frontend/descriptors.py)
    valence: np.ndarray  # [W]


@dataclass
class MusicEvaluation:
    tracks: list[TrackResult] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)


def track_windows(reader: AudioFileReader, contract: FrontEndContract, hop_frames: int):
    """Yield the [2, n_bins, n_frames] windows of the track `reader` reads, one every
    `hop_frames` frames, decoding and analysing it in streamed blocks (memory stays that of
    a window and a block, whatever the track's length).

    A track shorter than one window gives one window preceded by silence (as the app's
    rolling buffer shows it); longer tracks give every whole window from the start.
    """
    head = reader.read(contract.window_samples)
    if len(head) < contract.window_samples:
        yield analyse_window(head, contract)
        return
    n_frames = contract.n_frames
    kept = np.zeros((0, 2, contract.n_bins), dtype=np.float32)  # frames from `first` on
    first = next_start = 0
    blocks = itertools.chain([head], reader.blocks(STREAM_BLOCK_SAMPLES))
    for columns, _ in analyse_blocks(blocks, contract):
        kept = np.concatenate([kept, columns])
        while next_start + n_frames <= first + len(kept):
            offset = next_start - first
            yield kept[offset : offset + n_frames].transpose(1, 2, 0)
            next_start += hop_frames
        dropped = min(next_start - first, len(kept))
        kept, first = kept[dropped:], first + dropped


def select_tracks(
    music_dir: Path, models: ModelSet, subset: str
) -> tuple[list[tuple[Path, int]], list[dict[str, str]]]:
    """(track, category index) under `music_dir` for `subset`, and the files skipped."""
    if subset not in SUBSETS:
        raise EvaluationError(f"subset must be one of {', '.join(SUBSETS)}, got {subset!r}")
    found = find_category_files(music_dir, AUDIO_EXTENSIONS)
    unknown = [name for name in found.categories if name not in models.categories]
    if unknown:
        raise EvaluationError(
            f"{music_dir}: music categories {unknown} are not among the model's categories "
            f"{list(models.categories)}"
        )
    wanted: set[str] | None = None
    if subset != "all":
        key = f"{subset}_tracks"
        listed = models.encoder.metadata.training_data.get(key)
        if not isinstance(listed, list):
            raise EvaluationError(
                f"{models.encoder.name}: metadata training_data has no '{key}' list, so "
                f"--subset {subset} cannot be selected; use --subset all"
            )
        wanted = {"/".join(Path(entry).parts[-2:]) for entry in listed}
    tracks = []
    for name in found.categories:
        index = models.categories.index(name)
        for path in found.files[name]:
            if wanted is None or f"{name}/{path.name}" in wanted:
                tracks.append((path, index))
    skipped = [
        {"path": str(path), "reason": reason}
        for path, reason in found.skipped
        if path.relative_to(music_dir).parts[0] in found.categories
    ]
    return tracks, skipped


def encode_tracks(
    tracks: list[tuple[Path, int]], models: ModelSet, config: EvalConfig, memory_seconds: float
) -> MusicEvaluation:
    """Decode, analyse and encode every window of every track (streamed: memory does not grow
    with a track's length), each track's features read through a scene memory of
    `memory_seconds`; a track that cannot be decoded, at its start or anywhere later, is
    skipped and listed with the reason."""
    contract = models.contract
    hop_frames = max(1, round(contract.n_frames * config.window_hop_fraction))
    hop_seconds = hop_frames * contract.frame_seconds
    result = MusicEvaluation()
    describer = DescriptorAnalyser(contract)
    for number, (path, category) in enumerate(tracks, start=1):
        features, scores, feels = [], [], []
        pending: list[np.ndarray] = []
        try:
            with AudioFileReader(path, contract.sample_rate) as reader:
                windows = track_windows(reader, contract, hop_frames)
                for window in itertools.chain(windows, [None]):
                    if window is not None:
                        pending.append(window)
                        described = describer.describe(window[0])
                        feels.append((described.arousal, described.valence))
                    if pending and (window is None or len(pending) == config.batch):
                        feature, score = models.encoder.run(
                            ["feature", "category_scores"], {"window": np.stack(pending)}
                        )
                        features.append(feature)
                        scores.append(score)
                        pending = []
        except AudioDecodeError as error:
            log.warning("skipping track: %s", error)
            result.skipped.append({"path": str(path), "reason": str(error)})
            continue
        window_scores = np.concatenate(scores)
        remembered_features, remembered_scores = remembered_sequence(
            np.concatenate(features), window_scores, memory_seconds, hop_seconds
        )
        result.tracks.append(
            TrackResult(
                path,
                category,
                remembered_features,
                remembered_scores.argmax(axis=1),
                window_scores.argmax(axis=1),
                np.asarray([a for a, _ in feels]),
                np.asarray([v for _, v in feels]),
            )
        )
        log.info("eval: track %d/%d %s: %d windows", number, len(tracks), path, len(window_scores))
    return result


def judge_images(models: ModelSet, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(category index in ENCODER order [B], judge features [B, D]) for images in [-1,1]."""
    size = models.judge.metadata.image_size
    logits, features = models.judge.run(
        ["logits", "features"], {"image": resize_planes(images, size)}
    )
    judge_to_encoder = np.array(
        [models.categories.index(name) for name in models.judge.metadata.categories]
    )
    return judge_to_encoder[logits.argmax(axis=1)], features


def generated_batches(
    models: ModelSet, rows: np.ndarray, rng: np.random.Generator, batch: int
) -> Iterator[np.ndarray]:
    """The generator's images [<=batch, 3, S, S] for `rows` of features, `batch` rows per run,
    each row with a fresh noise draw from `rng` (drawn a run at a time, in row order)."""
    noise_dim = models.generator.metadata.noise_dim
    for start in range(0, len(rows), batch):
        chunk = rows[start : start + batch].astype(np.float32)
        noise = rng.standard_normal((len(chunk), noise_dim)).astype(np.float32)
        yield generate(models, noise, chunk)


def generate_and_judge(
    models: ModelSet, features: np.ndarray, draws: int, rng: np.random.Generator, batch: int
) -> tuple[np.ndarray, np.ndarray]:
    """Judge `draws` generated images per feature row, `batch` images per run:
    (categories [N*draws], features)."""
    rows = np.repeat(features.astype(np.float32), draws, axis=0)
    categories, judge_features = [], []
    for images in generated_batches(models, rows, rng, batch):
        category, judged = judge_images(models, images)
        categories.append(category)
        judge_features.append(judged)
    return np.concatenate(categories), np.concatenate(judge_features)


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


def _finite_or_none(value: float) -> float | None:
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
    music_to_picture = _finite_or_none(spearmanr(arousal + valence, picture).statistic)

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
                _finite_or_none(pearsonr(asked_array[:, i], got_array[:, i]).statistic)
                if np.ptp(asked_array[:, i]) > 1e-9
                else None  # strength 0 asks for nothing
            )
            for i, name in enumerate(("lightness", "chroma", "yellowness"))
        },
        "settings": config.feel_settings,
        "draws_per_setting": config.feel_draws,
    }


def sample_grid(
    models: ModelSet, features: np.ndarray, truth: np.ndarray, columns: int, seed: int
) -> np.ndarray:
    """uint8 [rows * S, columns * S, 3]: one row per category present in `truth` (encoder
    order), drawn from `columns` of its windows evenly spaced in track order, one seeded
    noise draw each; a category with fewer windows repeats them."""
    if columns < 1:
        raise ValueError(f"a sample grid needs at least one column, got {columns}")
    rng = np.random.default_rng([seed, 7])
    rows = []
    for index in np.unique(truth):
        windows = np.flatnonzero(truth == index)
        chosen = windows[np.linspace(0, len(windows) - 1, columns).round().astype(int)]
        noise = rng.standard_normal((columns, models.generator.metadata.noise_dim))
        pixels = to_uint8(generate(models, noise, features[chosen]))
        rows.append(np.concatenate(list(pixels.transpose(0, 2, 3, 1)), axis=1))
    return np.concatenate(rows, axis=0)


def correlation(asked: np.ndarray, drawn: np.ndarray) -> float | None:
    """Pearson's r, or None when either side does not vary (nothing to correlate)."""
    from scipy.stats import pearsonr

    if np.ptp(asked) < 1e-9 or np.ptp(drawn) < 1e-9:
        return None
    return _finite_or_none(pearsonr(asked, drawn).statistic)


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
    """`checkerboard_ratio` of CHECKERBOARD_DRAWS pictures per category drawn from its
    prototype (noise seed `seed`), and of up to CHECKERBOARD_PHOTOS held-out real photos at
    the generator's size for reference when `scenes_dir` is given."""
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
    result: dict[str, Any] = {
        "generated": checkerboard_ratio(images),
        "images": int(len(images)),
        "target": 1.5,
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
            result["real_photos"] = checkerboard_ratio(np.stack(pixels).transpose(0, 3, 1, 2))
            result["photos"] = len(pixels)
    return result


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Frechet distance between Gaussians fitted to the rows of `a` and of `b`."""
    if len(a) < 2 or len(b) < 2:
        raise EvaluationError("the Frechet distance needs at least two items on each side")
    mean_a, mean_b = a.mean(axis=0), b.mean(axis=0)
    cov_a = np.atleast_2d(np.cov(a, rowvar=False))
    cov_b = np.atleast_2d(np.cov(b, rowvar=False))
    root = scipy.linalg.sqrtm(cov_a @ cov_b)
    root = np.real(root)
    value = np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a + cov_b - 2.0 * root)
    return float(max(value, 0.0))


def mean_pairwise_distance(items: np.ndarray, sample: int, rng: np.random.Generator) -> float:
    """Mean Euclidean distance over all pairs of (at most `sample`, drawn) rows."""
    if len(items) < 2:
        return float("nan")
    if len(items) > sample:
        items = items[rng.choice(len(items), sample, replace=False)]
    items = items.astype(np.float64)
    squared = np.sum(items**2, axis=1)
    distance = np.sqrt(np.maximum(squared[:, None] + squared[None, :] - 2 * items @ items.T, 0))
    count = len(items)
    return float(distance[np.triu_indices(count, k=1)].mean())


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
        wanted = {"/".join(Path(entry).parts[-2:]) for entry in held_out}
    photos = [
        (path, models.categories.index(name))
        for name in found.categories
        if name in models.categories
        for path in found.files[name]
    ]
    source = "all"
    if wanted is not None:
        listed = [(p, c) for p, c in photos if f"{p.parent.name}/{p.name}" in wanted]
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
    `samples_path`: also write a PNG grid of generated images (`sample_grid`, 8 columns).
    """
    config = config or EvalConfig()
    started = time.monotonic()
    models = load_model_set(models_dir, config.threads)
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

        grid = sample_grid(models, features, truth, SAMPLE_COLUMNS, config.seed)
        Path(samples_path).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(grid).save(samples_path)

    diversity = fid = None
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
        fid = frechet_distance(generated_features, real.features)
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


def _figure(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def format_summary(result: dict[str, Any]) -> str:
    """A readable table of `evaluate`'s result."""
    categories = result["categories"]
    retrieval, generation = result["retrieval"], result["generation"]
    width = max(10, *(len(name) + 2 for name in categories))
    lines = [
        f"{result['tracks']} tracks, {result['windows']} windows (subset {result['subset']}), "
        f"{len(result['skipped_tracks'])} files skipped",
        "",
        f"{'category':<{width}}{'retrieval':>10}{'generation':>12}",
    ]
    for name in categories:
        r = retrieval["per_category"].get(name)
        g = generation["per_category"].get(name)
        lines.append(f"{name:<{width}}{_figure(r):>10}{_figure(g):>12}")
    lines.append(
        f"{'all':<{width}}{_figure(retrieval['accuracy']):>10}{_figure(generation['accuracy']):>12}"
    )
    lines.append(
        f"{'min share':<{width}}{_figure(min(retrieval['chosen_share'].values())):>10}"
        f"{_figure(min(generation['chosen_share'].values())):>12}"
        "  (smallest share of answers any category gets)"
    )
    lines += [
        "",
        f"generation confusion ({generation['draws_per_window']} draws per window; "
        "rows = music category, columns = judge's category):",
        " " * width + "".join(f"{name[:9]:>10}" for name in categories),
    ]
    for name, row in zip(categories, generation["confusion"], strict=True):
        lines.append(f"{name:<{width}}" + "".join(f"{count:>10d}" for count in row))
    real = result["real_photos"]
    lines += [
        "",
        f"centroid accuracy  {_figure(generation['centroid_accuracy'])}  "
        f"({generation['centroid_draws']} draws each: "
        + ", ".join(
            f"{name} {_figure(value)}"
            for name, value in generation["centroid_per_category"].items()
        )
        + ")",
        f"stability          {_figure(generation['stability'])}",
        f"feel               music vs picture "
        f"{_figure(result['feel']['music_to_picture_spearman'])} "
        f"(Spearman, strength {result['feel']['strength']:g}); asked vs drawn r: "
        + ", ".join(f"{k} {_figure(v)}" for k, v in result["feel"]["asked_vs_drawn"].items()),
        "attribute control  "
        + (
            "n/a (the generator takes no attributes)"
            if result["attribute_control"] is None
            else "asked vs drawn r: "
            + ", ".join(
                f"{name} {_figure(values['pearson_r'])}"
                for name, values in result["attribute_control"]["attributes"].items()
            )
            + f" ({result['attribute_control']['draws_per_setting']} draws per setting)"
        ),
        f"checkerboard       {_figure(result['checkerboard']['generated'], 2)}x"
        + (
            f"  (real photos {result['checkerboard']['real_photos']:.2f}x)"
            if "real_photos" in result["checkerboard"]
            else ""
        ),
        f"scene memory       {result['scene_memory_seconds']:g} s  (each window alone: "
        f"retrieval {_figure(result['per_window']['retrieval_accuracy'])}, "
        f"stability {_figure(result['per_window']['stability'])})",
        f"diversity          {_figure(generation['diversity'])}"
        + ("" if real else "  (needs --scenes)"),
        f"fid_judge          {_figure(generation['fid_judge'], 2)}"
        + (f"  (vs {real['photos']} {real['source']} photos)" if real else "  (needs --scenes)"),
    ]
    if real:
        lines.append(
            f"judge on real      {_figure(real['judge_accuracy'])}  "
            f"({real['source']} photos; the judge's own accuracy, for scale)"
        )
    for skipped in result["skipped_tracks"]:
        lines.append(f"skipped: {skipped['reason']}")
    return "\n".join(lines)


def write_json(result: dict[str, Any], path: Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")


__all__ = [
    "DataLayoutError",
    "EvalConfig",
    "EvaluationError",
    "ModelFileError",
    "evaluate",
    "format_summary",
    "write_json",
]
