"""Saving the picture the canvas shows as a PNG, off the GUI thread.

The GUI thread names the file and hands over a reference to the shown frame (frames are
never changed after they are shown); a short-lived thread encodes and writes it, first under
a ".part" name that is then renamed, so a file under the final name is always whole. The
result comes back by the `saved` signal, queued to the thread the saver lives in.

`save_enlarged` saves the scene at PICTURE_SIZE (its shorter side: a canvas that fills a
wide screen is saved as it shows the picture, its middle) whatever size the live output
runs at (a busy machine may show 128 px): the thread enlarges the generator's own picture
with the model directory's learned upscaler (`PictureEnlarger`, loaded on the first
picture, its output taken to the size by Qt's smooth scaling; a bicubic resize where the
folder has none or a bad one) and dims it as the canvas was dimmed.
"""

from __future__ import annotations

import os
import threading
from datetime import datetime
from pathlib import Path

import numpy as np
from PyQt6.QtCore import QObject, pyqtSignal

from visualizer.model_files import ModelFileError
from visualizer.output_files import unused_path
from visualizer.resize import crop_size
from visualizer.upscale import Upscaler, load_upscaler

from .output_level import dim
from .qt_resize import smooth_resize_rgb8

PICTURE_SUFFIX = ".png"
PICTURE_SIZE = 1024  # pixels: a saved picture's side (its shorter side when it is not square)


def picture_path(directory: Path, when: datetime, taken: set[Path]) -> Path:
    """`musicscape-DATE-TIME-MILLISECONDS.png` in `directory`, with "-2", "-3" ... added when
    that name is already a file or in `taken` (names handed out but perhaps not yet written)."""
    stem = f"musicscape-{when:%Y%m%d-%H%M%S}-{when.microsecond // 1000:03d}"
    return unused_path(directory, stem, PICTURE_SUFFIX, taken)


def png_bytes(pixels: np.ndarray) -> bytes:
    """uint8 RGB [H, W, 3] as the bytes of a PNG file."""
    import io

    from PIL import Image

    encoded = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(encoded, format="PNG")
    return encoded.getvalue()


def write_png(pixels: np.ndarray, path: Path) -> None:
    """uint8 RGB [H, W, 3] to `path` as a PNG, through `path` + ".part" renamed over it; the
    part file is removed when the write fails. Raises OSError."""
    encoded = png_bytes(pixels)
    part = path.with_name(path.name + ".part")
    try:
        part.write_bytes(encoded)
        os.replace(part, path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise


class PictureEnlarger:
    """The generator's picture at a saved picture's size, by the upscaler of the model
    directory it came from (loaded on first use, again when the directory changes; one
    picture at a time)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._loaded: tuple[Path, Upscaler] | None = None

    def enlarge(
        self, picture: np.ndarray, model_dir: Path, size: int, aspect: float = 1.0
    ) -> np.ndarray:
        """float [3, S, S] in [-1, 1] -> uint8 RGB, [size, size, 3], or for another `aspect`
        (a width by a height) its middle, `size` on the shorter side (`crop_size`)."""
        width, height = crop_size(aspect, size)
        with self._lock:
            if self._loaded is None or self._loaded[0] != model_dir:
                try:
                    upscaler = load_upscaler(model_dir, final_resize=smooth_resize_rgb8)
                except ModelFileError:  # the live picture names it; a picture is still saved
                    upscaler = Upscaler()
                self._loaded = (model_dir, upscaler)
            return self._loaded[1].upscale_middle(picture, width, height)


class PictureSaver(QObject):
    """`save(pixels, directory)` names the file and returns at once; `saved(path, error)`
    follows, with `error` "" when the file was written, else what went wrong in words."""

    saved = pyqtSignal(str, str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._taken: set[Path] = set()
        self._threads: list[threading.Thread] = []
        self.enlarger = PictureEnlarger()

    def save(self, pixels: np.ndarray, directory: Path) -> Path:
        """Save uint8 RGB `pixels` as they are."""
        if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] != 3:
            raise ValueError(f"expected uint8 RGB [H, W, 3], got {pixels.dtype} {pixels.shape}")
        return self._start(lambda: pixels, directory)

    def save_enlarged(
        self,
        picture: np.ndarray,
        model_dir: Path,
        gain: float,
        directory: Path,
        aspect: float = 1.0,
    ) -> Path:
        """Save the generator's `picture` (float [3, S, S]) enlarged to PICTURE_SIZE by
        `model_dir`'s upscaler (its middle at `aspect`, a width by a height, PICTURE_SIZE on
        the shorter side), every value times `gain` (the output level)."""
        if picture.ndim != 3 or picture.shape[0] != 3:
            raise ValueError(f"expected a picture [3, S, S], got {picture.shape}")
        return self._start(
            lambda: dim(self.enlarger.enlarge(picture, model_dir, PICTURE_SIZE, aspect), gain),
            directory,
        )

    def _start(self, make_pixels, directory: Path) -> Path:
        path = picture_path(Path(directory), datetime.now(), self._taken)
        self._taken.add(path)
        thread = threading.Thread(
            target=self._write, args=(make_pixels, path), name="picture-saver", daemon=True
        )
        self._threads = [running for running in self._threads if running.is_alive()]
        self._threads.append(thread)
        thread.start()
        return path

    def _write(self, make_pixels, path: Path) -> None:
        try:
            write_png(make_pixels(), path)
        except OSError as error:
            reason = error.strerror or str(error)
            self.saved.emit(str(path), f"{path}: {reason}")
        except Exception as error:  # noqa: BLE001 - ONNX Runtime raises many unrelated types
            self.saved.emit(str(path), f"{path}: the picture could not be made ({error})")
        else:
            self.saved.emit(str(path), "")
        finally:
            self._taken.discard(path)

    def wait(self, timeout: float = 5.0) -> None:
        """Until every picture handed over is written (or failed): for closing the window."""
        for thread in self._threads:
            thread.join(timeout)
