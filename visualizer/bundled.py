"""Where the bundled models and demo music are, however musicscape was installed, and which
version is installed.

They live in the `assets` package: assets/ in a clone (editable install), package data in an
installed wheel. This is the one place that knows it.
"""

from __future__ import annotations

import importlib.metadata
from importlib.resources import files
from pathlib import Path


def assets_dir() -> Path:
    """The bundled assets folder, holding `models/` and `demo/`."""
    return Path(str(files("assets")))


def package_version() -> str:
    """The installed package's version ("unknown" when run from a tree never installed)."""
    try:
        return importlib.metadata.version("musicscape")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"
