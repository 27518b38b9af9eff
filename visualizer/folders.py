"""Finding training data: `<root>/scenes/<category>/*` and `<root>/music/<category>/*`.

Categories are the sub-folder names (any number of them, sorted). Files are filtered by
extension here; whether a file really decodes is checked by whoever reads it, which skips
and counts the failures.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from visualizer.frontend import AUDIO_FILE_SUFFIXES

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp"})
AUDIO_EXTENSIONS = frozenset(AUDIO_FILE_SUFFIXES)

log = logging.getLogger(__name__)


class DataLayoutError(ValueError):
    """The data folder does not have the expected layout."""


@dataclass
class CategoryFiles:
    """Files per category, in sorted order so every split is deterministic."""

    categories: tuple[str, ...]
    files: dict[str, list[Path]]
    skipped: list[tuple[Path, str]] = field(default_factory=list)

    def labelled(self) -> list[tuple[Path, int]]:
        """(path, category index) for every file."""
        return [
            (path, index) for index, name in enumerate(self.categories) for path in self.files[name]
        ]

    def counts(self) -> dict[str, int]:
        return {name: len(self.files[name]) for name in self.categories}


def category_file_key(path: str | Path) -> str:
    """ "category/file" of a file in a `<category>/<file>` folder: how a model's metadata
    lists of tracks or photos (relative to any data root) are matched to files found here."""
    return "/".join(Path(path).parts[-2:])


def find_category_files(folder: Path, extensions: frozenset[str]) -> CategoryFiles:
    """Files with one of `extensions` in each sub-folder of `folder`, sub-folders = categories."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataLayoutError(f"{folder}: no such folder")
    categories = tuple(
        sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    )
    files: dict[str, list[Path]] = {}
    skipped: list[tuple[Path, str]] = []
    for name in categories:
        found = []
        for path in sorted((folder / name).rglob("*")):
            if not path.is_file():
                continue
            if path.suffix.lower() in extensions:
                found.append(path)
            else:
                skipped.append((path, "not a recognised file type"))
        files[name] = found
    categories = tuple(name for name in categories if files[name])
    if len(categories) < 2:
        raise DataLayoutError(
            f"{folder}: needs at least two category sub-folders with files, found "
            f"{list(categories) or 'none'}"
        )
    return CategoryFiles(categories, {name: files[name] for name in categories}, skipped)


def split_by_item(
    items: list[Path],
    validation_fraction: float,
    seed: int,
) -> tuple[list[Path], list[Path]]:
    """Deterministic split of whole items (tracks, photos): none is on both sides.

    Every category with at least two items keeps at least one on each side.
    """
    order = np.random.default_rng(seed).permutation(len(items))
    count = int(round(len(items) * validation_fraction))
    if len(items) >= 2:
        count = min(max(count, 1), len(items) - 1)
    else:
        count = 0
    validation = sorted(items[i] for i in order[:count])
    training = sorted(items[i] for i in order[count:])
    return training, validation
