"""Loading a model directory off the GUI thread, so that a reload never stalls the picture.

Opening the ONNX sessions takes a noticeable fraction of a second (more with the CUDA
provider); the window keeps painting with the models it has until the new ones are ready.
"""

from __future__ import annotations

import threading
from pathlib import Path

from PyQt6.QtCore import QObject, pyqtSignal

from visualizer.model_files import ModelFileError

from .model_runtime import ModelRuntime


class ModelLoader(QObject):
    """Builds a ModelRuntime on a background thread; posts it, or the reason it could not be
    built, through `loaded` / `failed` on the thread the loader lives on (the GUI's).

    A load counts as under way until its result has been delivered there, so two reloads
    never overlap.
    """

    loaded = pyqtSignal(object)  # ModelRuntime
    failed = pyqtSignal(str)
    _built = pyqtSignal(object)  # emitted on the loading thread, queued to ours
    _refused = pyqtSignal(str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.busy = False
        self._built.connect(self._deliver_runtime)
        self._refused.connect(self._deliver_failure)

    def start(self, model_dir: Path) -> bool:
        """Begin loading `model_dir`; False (and nothing started) while a load is under way."""
        if self.busy:
            return False
        self.busy = True
        threading.Thread(
            target=self._load, args=(Path(model_dir),), name="model-loader", daemon=True
        ).start()
        return True

    def _load(self, model_dir: Path) -> None:
        try:
            runtime = ModelRuntime(model_dir)
        except ModelFileError as error:
            self._refused.emit(str(error))
            return
        except Exception as error:  # onnxruntime raises its own types: report, never die
            self._refused.emit(f"{model_dir}: {type(error).__name__}: {error}")
            return
        self._built.emit(runtime)

    def _deliver_runtime(self, runtime: ModelRuntime) -> None:
        self.busy = False
        self.loaded.emit(runtime)

    def _deliver_failure(self, message: str) -> None:
        self.busy = False
        self.failed.emit(message)
