"""Checking, before any work, that a file the user named can be written: a long render or
evaluation should not end by failing to save what it made."""

from __future__ import annotations

import os
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
