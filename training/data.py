"""Training data: scenes and music per category, split, loaded and sampled class-balanced.

Layout: `<root>/scenes/<category>/*` and `<root>/music/<category>/*` (plus optional extra
music folders under the root). Music is split into training/validation by TRACK and images
by image, deterministically from the seed; unreadable files are skipped with a warning and
listed in `skipped`, which the run log reports.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from training.config import DataConfig
from training.feature_cache import FeatureCache
from visualizer.folders import (
    AUDIO_EXTENSIONS,
    IMAGE_EXTENSIONS,
    DataLayoutError,
    find_category_files,
    split_by_item,
)
from visualizer.frontend import AudioDecodeError, FrontEndContract
from visualizer.photos import PhotoReadError, read_photo, split_photos
from visualizer.pixels import to_unit

log = logging.getLogger(__name__)


@dataclass
class DataSplit:
    """Which files train and which validate, per category, as paths relative to the root."""

    root: Path
    categories: tuple[str, ...]
    train_tracks: list[tuple[Path, int]]
    validation_tracks: list[tuple[Path, int]]
    train_images: list[tuple[Path, int]]
    validation_images: list[tuple[Path, int]]
    skipped: list[tuple[Path, str]] = field(default_factory=list)

    def relative(self, items: list[tuple[Path, int]]) -> list[str]:
        return [str(path.relative_to(self.root)) for path, _ in items]

    def summary(self) -> dict:
        """The training-data summary export writes into the model metadata."""

        def per_category(items: list[tuple[Path, int]]) -> dict[str, int]:
            return {
                name: sum(1 for _, label in items if label == index)
                for index, name in enumerate(self.categories)
            }

        return {
            "categories": list(self.categories),
            "train_tracks": self.relative(self.train_tracks),
            "validation_tracks": self.relative(self.validation_tracks),
            "train_track_counts": per_category(self.train_tracks),
            "validation_track_counts": per_category(self.validation_tracks),
            "train_image_counts": per_category(self.train_images),
            "validation_image_counts": per_category(self.validation_images),
            "skipped_files": len(self.skipped),
        }


def split_data(root: Path, config: DataConfig) -> DataSplit:
    """Find and split the data under `root`; categories must be the same for scenes and music."""
    root = Path(root)
    scenes = find_category_files(root / "scenes", IMAGE_EXTENSIONS)
    music = find_category_files(root / "music", AUDIO_EXTENSIONS)
    music_files = {name: list(music.files[name]) for name in music.categories}
    skipped = list(scenes.skipped) + list(music.skipped)
    for extra in config.extra_music:
        more = find_category_files(root / extra, AUDIO_EXTENSIONS)
        skipped += more.skipped
        for name in more.categories:
            if name in music_files:
                music_files[name] += more.files[name]
    if set(scenes.categories) != set(music.categories):
        raise DataLayoutError(
            f"{root}: scene categories {list(scenes.categories)} differ from music categories "
            f"{list(music.categories)}"
        )
    categories = scenes.categories
    train_tracks, validation_tracks, train_images, validation_images = [], [], [], []
    for index, name in enumerate(categories):
        training, validation = split_by_item(
            sorted(music_files[name]), config.validation_fraction, config.seed
        )
        train_tracks += [(path, index) for path in training]
        validation_tracks += [(path, index) for path in validation]
        training, validation = split_photos(scenes.files[name])
        train_images += [(path, index) for path in training]
        validation_images += [(path, index) for path in validation]
    return DataSplit(
        root, categories, train_tracks, validation_tracks, train_images, validation_images, skipped
    )


class MusicBank:
    """Cached features of tracks, with their labels; tracks that fail to load are skipped and
    listed in `skipped` (a track it already lists, found unreadable by an earlier stage, is
    left out without another try, so each bad file is reported and counted once)."""

    def __init__(
        self,
        tracks: list[tuple[Path, int]],
        cache: FeatureCache,
        contract: FrontEndContract,
        skipped: list[tuple[Path, str]],
    ):
        self.contract = contract
        self.features: list[np.ndarray] = []
        self.labels: list[int] = []
        self.paths: list[Path] = []
        known_bad = {known for known, _ in skipped}
        for path, label in tracks:
            if path in known_bad:
                continue
            try:
                features = cache.features(path)
            except (AudioDecodeError, ValueError, OSError) as error:
                reason = str(error) if str(error).startswith(str(path)) else f"{path}: {error}"
                log.warning("skipping unreadable track %s", reason)
                skipped.append((path, reason))
                continue
            self.features.append(features)
            self.labels.append(label)
            self.paths.append(path)

    def __len__(self) -> int:
        return len(self.features)

    def tracks_of(self, label: int) -> list[int]:
        return [i for i, value in enumerate(self.labels) if value == label]

    def window(self, track: int, start: int) -> np.ndarray:
        """float32 [2, n_bins, n_frames] from frame `start`; short tracks get silence first."""
        return self.crop(track, start, self.contract.n_frames)

    def crop(self, track: int, start: int, frames: int) -> np.ndarray:
        """float32 [2, n_bins, frames] from frame `start`; a track shorter than `frames` gets
        silence first."""
        features = self.features[track]
        available = features.shape[2]
        if available >= frames:
            return np.asarray(features[:, :, start : start + frames], dtype=np.float32)
        out = np.zeros((2, features.shape[1], frames), dtype=np.float32)
        out[0] = -1.0
        out[:, :, frames - available :] = features
        return out

    def random_start(self, track: int, rng: np.random.Generator) -> int:
        return int(
            rng.integers(0, max(self.features[track].shape[2] - self.contract.n_frames, 0) + 1)
        )

    def nearby_start(
        self, track: int, start: int, max_shift: float, rng: np.random.Generator
    ) -> int:
        """A start at most `max_shift` of a window from `start`, inside the track."""
        reach = int(round(max_shift * self.contract.n_frames))
        last = max(self.features[track].shape[2] - self.contract.n_frames, 0)
        return int(np.clip(start + rng.integers(-reach, reach + 1), 0, last))

    def fixed_starts(self, track: int, count: int) -> list[int]:
        """Up to `count` evenly spaced window starts covering the track (for evaluation)."""
        last = max(self.features[track].shape[2] - self.contract.n_frames, 0)
        return sorted({int(round(x)) for x in np.linspace(0, last, count)})


class ImageBank:
    """Photos read once (`read_photo`: centre-cropped to `size`), held in memory as uint8
    [N, size, size, 3] with their labels and paths; unreadable ones are skipped and listed in
    `skipped`, once (one it already lists is left out without another try)."""

    def __init__(self, images: list[tuple[Path, int]], size: int, skipped: list[tuple[Path, str]]):
        pixels, labels, paths = [], [], []
        known_bad = {known for known, _ in skipped}
        for path, label in images:
            if path in known_bad:
                continue
            try:
                pixels.append(read_photo(path, size))
            except PhotoReadError as error:
                log.warning("skipping %s", error)
                skipped.append((path, str(error)))
                continue
            labels.append(label)
            paths.append(path)
        self.pixels = np.stack(pixels) if pixels else np.zeros((0, size, size, 3), np.uint8)
        self.labels = np.asarray(labels, dtype=np.int64)
        self.paths = paths

    def relative_paths(self, root: Path) -> list[str]:
        """The photos' paths relative to `root`, as "<category>/<file>"."""
        return [path.relative_to(root).as_posix() for path in self.paths]

    def __len__(self) -> int:
        return len(self.labels)

    def batch(self, indices: np.ndarray) -> np.ndarray:
        """float32 [B, 3, size, size] in [-1, 1]."""
        return to_unit(self.pixels[indices].transpose(0, 3, 1, 2))

    def of(self, label: int) -> np.ndarray:
        return np.flatnonzero(self.labels == label)


def check_every_category(name: str, labels: list[int] | np.ndarray, categories: tuple[str, ...]):
    """Raise DataLayoutError when a category has nothing left after skipping unreadable files."""
    present = set(int(x) for x in labels)
    missing = [c for i, c in enumerate(categories) if i not in present]
    if missing:
        raise DataLayoutError(f"no readable {name} for categories {missing}")


class BalancedSampler:
    """Class-balanced batches: `per_class` random windows and images of every category."""

    def __init__(self, music: MusicBank, images: ImageBank, n_classes: int, per_class: int):
        self.music = music
        self.images = images
        self.per_class = per_class
        self.track_lists = [music.tracks_of(c) for c in range(n_classes)]
        self.image_lists = [images.of(c) for c in range(n_classes)]

    def sample(self, rng: np.random.Generator, pair_shift: float | None = None):
        """(windows [C*k, 2, n_bins, n_frames], window labels, images [C*k, 3, S, S], labels).

        With `pair_shift`, windows 2i and 2i+1 come from one track, their starts at most
        `pair_shift` of a window apart (k must be even).
        """
        windows, labels, image_indices = [], [], []
        paired = pair_shift is not None
        if paired and self.per_class % 2:
            raise ValueError(f"paired windows need an even per_class, got {self.per_class}")
        for label, tracks in enumerate(self.track_lists):
            for _ in range(self.per_class // 2 if paired else self.per_class):
                track = tracks[int(rng.integers(len(tracks)))]
                start = self.music.random_start(track, rng)
                windows.append(self.music.window(track, start))
                labels.append(label)
                if paired:
                    windows.append(self.music.window(track, self.music.nearby_start(
                        track, start, pair_shift, rng)))  # fmt: skip
                    labels.append(label)
            image_indices += list(rng.choice(self.image_lists[label], self.per_class))
        labels_array = np.asarray(labels, dtype=np.int64)
        indices = np.asarray(image_indices, dtype=np.int64)
        return (
            np.stack(windows),
            labels_array,
            self.images.batch(indices),
            self.images.labels[indices],
        )
