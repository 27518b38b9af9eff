"""Saving the picture the canvas shows as a PNG, off the GUI thread.

The GUI thread names the file and hands over a reference to the shown frame (frames are
never changed after they are shown); a short-lived thread encodes and writes it, first under
a ".part" name that is then renamed, so a file under the final name is always whole. The
result comes back by the `saved` signal, queued to the thread the saver lives in.
"""

from __future__ import annotations

import os
import threading
from datetime import datetime
from pathlib import Path

import numpy as np
from PyQt6.QtCore import QObject, pyqtSignal

PICTURE_SUFFIX = ".png"


def picture_path(directory: Path, when: datetime, taken: set[Path]) -> Path:
    """`musicscape-DATE-TIME-MILLISECONDS.png` in `directory`, with "-2", "-3" ... added when
    that name is already a file or in `taken` (names handed out but perhaps not yet written)."""
    stem = f"musicscape-{when:%Y%m%d-%H%M%S}-{when.microsecond // 1000:03d}"
    path = directory / f"{stem}{PICTURE_SUFFIX}"
    number = 1
    while path in taken or path.exists():
        number += 1
        path = directory / f"{stem}-{number}{PICTURE_SUFFIX}"
    return path


def write_png(pixels: np.ndarray, path: Path) -> None:
    """uint8 RGB [H, W, 3] to `path` as a PNG, through `path` + ".part" renamed over it; the
    part file is removed when the write fails. Raises OSError."""
    from PIL import Image

    part = path.with_name(path.name + ".part")
    try:
        Image.fromarray(pixels, "RGB").save(part, format="PNG")
        os.replace(part, path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise


class PictureSaver(QObject):
    """`save(pixels, directory)` names the file and returns at once; `saved(path, error)`
    follows, with `error` "" when the file was written, else what went wrong in words."""

    saved = pyqtSignal(str, str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._taken: set[Path] = set()
        self._threads: list[threading.Thread] = []

    def save(self, pixels: np.ndarray, directory: Path) -> Path:
        if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] != 3:
            raise ValueError(f"expected uint8 RGB [H, W, 3], got {pixels.dtype} {pixels.shape}")
        path = picture_path(Path(directory), datetime.now(), self._taken)
        self._taken.add(path)
        thread = threading.Thread(
            target=self._write, args=(pixels, path), name="picture-saver", daemon=True
        )
        self._threads = [running for running in self._threads if running.is_alive()]
        self._threads.append(thread)
        thread.start()
        return path

    def _write(self, pixels: np.ndarray, path: Path) -> None:
        try:
            write_png(pixels, path)
        except OSError as error:
            reason = error.strerror or str(error)
            self.saved.emit(str(path), f"{path}: {reason}")
        else:
            self.saved.emit(str(path), "")
        finally:
            self._taken.discard(path)

    def wait(self, timeout: float = 5.0) -> None:
        """Until every picture handed over is written (or failed): for closing the window."""
        for thread in self._threads:
            thread.join(timeout)
