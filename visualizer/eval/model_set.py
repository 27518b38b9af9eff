"""The three models eval runs (encoder, generator, judge) from an exported directory, and
drawing and judging pictures with them; a generator conditioned on picture attributes is
asked, at every draw, for the typical light of the category its feature scores as."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from visualizer.frontend import FrontEndContract
from visualizer.model_files import ENCODER_FILE, GENERATOR_FILE, JUDGE_FILE, ModelFileError
from visualizer.model_sessions import (
    ModelSession,
    check_encoder,
    check_generator,
    check_judge,
    has_attributes,
    open_model,
)
from visualizer.picture_attributes import AttributeStats, category_request, feature_request
from visualizer.resize import resize_planes


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
        return self.generator.metadata.category_pull_temperature()

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
    it scores as, weighted by softmax(scores / the pull temperature) (`feature_request`,
    as the app asks)."""
    prototypes = np.asarray(
        models.encoder.metadata.category_prototypes
        or models.generator.metadata.category_prototypes,
        dtype=np.float64,
    )
    if not len(prototypes):  # nothing to score against: every category alike
        weights = np.full((len(features), len(models.categories)), 1.0 / len(models.categories))
        return category_request(weights, models.attribute_stats)
    return feature_request(features, prototypes, models.pull_temperature, models.attribute_stats)


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
