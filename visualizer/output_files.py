"""Checking, before any work, that a file the user named can be written: a long render or
evaluation should not end by failing to save what it made."""

from __future__ import annotations

import os
from collections.abc import Collection
from pathlib import Path


def output_file_problem(path: Path, create_folders: bool) -> str | None:
    """Why `path` cannot be written as a file, in words that start with the offending path;
    None when it can. With `create_folders` the missing folders above it will be made, so
    the nearest existing one must be a writable folder; without, its own folder must be."""
    path = Path(path)
    if path.is_dir():
        return f"{path} is a folder"
    folder = path.parent
    if create_folders:
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
    elif not folder.exists():
        return f"{folder} does not exist"
    if not folder.is_dir():
        return f"{folder} is not a folder"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"{folder} is not writable"
    return None


def picture_format(path: Path) -> str | None:
    """The Pillow format that writes a picture named `path` (by its suffix), or None."""
    from PIL import Image

    name = Image.registered_extensions().get(Path(path).suffix.lower())
    return name if name in Image.SAVE else None


def unused_path(folder: Path, stem: str, suffix: str, taken: Collection[Path] = ()) -> Path:
    """`folder`/`stem``suffix`, with "-2", "-3" ... added to the stem when that name is
    already a file or in `taken` (names handed out but perhaps not yet written), so a
    second recording or picture within the same clock tick never overwrites the first."""
    path = folder / f"{stem}{suffix}"
    number = 1
    while path in taken or path.exists():
        number += 1
        path = folder / f"{stem}-{number}{suffix}"
    return path
