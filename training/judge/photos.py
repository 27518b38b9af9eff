"""The judge's photos: decoded once into uint8 arrays, labelled, with their paths."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from visualizer.photos import PhotoReadError, read_photo

log = logging.getLogger(__name__)


@dataclass
class PhotoSet:
    images: np.ndarray  # uint8 [N, size, size, 3]
    labels: np.ndarray  # int64 [N]
    paths: list[str]  # "<category>/<file>" relative to the scenes root


def read_photo_set(
    root: Path, labelled: list[tuple[Path, int]], size: int, skipped: list[tuple[str, str]]
) -> PhotoSet:
    images = np.empty((len(labelled), size, size, 3), dtype=np.uint8)
    labels, paths = [], []
    for path, label in labelled:
        try:
            images[len(labels)] = read_photo(path, size)
        except PhotoReadError as error:
            skipped.append((str(path), str(error)))
            log.warning("skipping photo: %s", error)
            continue
        labels.append(label)
        paths.append(path.relative_to(root).as_posix())
    return PhotoSet(images[: len(labels)].copy(), np.asarray(labels, dtype=np.int64), paths)


def balanced_indices(labels: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """`count` indices drawn with replacement so that every category is equally likely."""
    frequency = np.bincount(labels)
    weights = 1.0 / frequency[labels]
    return rng.choice(len(labels), size=count, replace=True, p=weights / weights.sum())
