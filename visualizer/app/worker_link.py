"""The window's link to the picture: the models, the worker that runs them, the analysis ring.

The sources write into the ring and the worker reads it; the GUI changes a running worker
only by sending it `WorkerCommand`s (`send`), and keeps its own copy of the settings in step
for the next worker. Loading the models (at start-up on the GUI thread, Ctrl+R on a
background one) replaces the worker; a bad model directory becomes a line in the panel.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from visualizer.frontend import FrontEndContract
from visualizer.model_files import ModelFileError

from .app_settings import AppSettings
from .frame_worker import FrameWorker, WorkerCommand, WorkerSettings
from .model_loader import ModelLoader
from .model_runtime import ModelRuntime
from .sample_ring import SampleRing

if TYPE_CHECKING:
    from .main_window import MainWindow

RING_SECONDS = 8.0


def first_worker_settings(
    settings: AppSettings, chosen: WorkerSettings | None, feel_strength: float | None
) -> WorkerSettings:
    """What the first worker starts with: the command line's settings (`chosen`), with the
    user's remembered controls (the feel strength and scene memory only when the command line
    gave none)."""
    chosen = chosen or WorkerSettings()
    return replace(
        chosen,
        av_offset_ms=settings.av_offset_ms,
        log_frequency=settings.log_frequency,
        reactivity=settings.reactivity,
        crossfade_seconds=settings.crossfade_seconds,
        scene_on_beat=settings.scene_on_beat,
        scene_on_bar=settings.scene_on_bar,
        feel_strength=settings.feel_strength if feel_strength is None else feel_strength,
        scene_memory_seconds=(
            settings.scene_memory_seconds  # no --scene-memory given
            if chosen.scene_memory_seconds is None
            else chosen.scene_memory_seconds
        ),
    )


class WorkerLink:
    """The models, the worker and the analysis ring of one window."""

    def __init__(self, window: MainWindow, model_dir: Path, worker_settings: WorkerSettings):
        self.window = window
        self.model_dir = Path(model_dir)
        # What the next worker starts with; a running worker changes only through `send`.
        self.worker_settings = worker_settings
        self.runtime: ModelRuntime | None = None
        self.worker: FrameWorker | None = None
        self.contract = FrontEndContract()
        rate = self.contract.sample_rate
        self.ring = SampleRing(int(RING_SECONDS * rate), rate)
        self.loader = ModelLoader(window)
        self.loader.loaded.connect(self.use_runtime)
        self.loader.failed.connect(self._reload_failed)

    def load_models(self) -> None:
        """Load the model directory now (at start-up, before the window shows)."""
        window = self.window
        try:
            runtime = ModelRuntime(self.model_dir)
        except ModelFileError as error:
            self.stop_worker()
            self.runtime = None
            window.set_fault("models", f"No picture: {error}")
            window.panel.provider_label.setText("-")
            window.controls.show_categories(())
            return
        self.use_runtime(runtime)

    def reload_models(self) -> bool:
        """Ctrl+R: load the model directory again on a background thread. The running models
        keep painting until the new ones are ready, and stay if the files turn out bad.
        False while a reload is already under way."""
        return self.loader.start(self.model_dir)

    def _reload_failed(self, message: str) -> None:
        if self.runtime is None:
            self.window.set_fault("models", f"No picture: {message}")
        else:
            self.window.set_fault(
                "models", f"Reload failed, still showing the previous models: {message}"
            )

    def use_runtime(self, runtime: ModelRuntime) -> None:
        window = self.window
        self.stop_worker()
        self.runtime = runtime
        window.set_fault("models", None)
        window.set_fault("provider", runtime.providers.warning)
        provider = runtime.active_provider.replace("ExecutionProvider", "")
        window.panel.provider_label.setText(provider)
        window.log(
            f"models loaded from {runtime.model_dir.absolute()} "
            f"({', '.join(runtime.metadata.categories)}; runs on {provider})"
        )
        contract_changed = runtime.metadata.frontend != self.contract
        self.contract = runtime.metadata.frontend
        window.controls.show_categories(runtime.metadata.categories)
        if contract_changed and window.sources.source is not None:
            window.sources.restart_current()
        self.start_worker()

    def start_worker(self) -> None:
        if self.runtime is None:
            return
        window = self.window
        worker = FrameWorker(self.runtime, self.ring, self.worker_settings)
        worker.frame_ready.connect(window.show_latest_frame)
        worker.failed.connect(lambda message: window.set_fault("worker", message))
        worker.recovered.connect(lambda: window.set_fault("worker", None))
        worker.error_raised.connect(window.log_error)
        worker.beat.connect(window.stage.beat)
        self.worker = worker
        window.set_fault("worker", None)  # a new worker: what an earlier one reported is over
        scene_memory = window.panel.scene_memory
        scene_memory.blockSignals(True)  # showing the model's value is no choice
        scene_memory.setValue(round(worker.settings.scene_memory_seconds))
        scene_memory.blockSignals(False)
        worker.start()

    def send(self, command: WorkerCommand) -> None:
        """Change what the worker runs with: the settings for later workers, and the running
        worker's between its frames."""
        self.worker_settings = command.applied_to(self.worker_settings)
        if self.worker is not None:
            self.worker.send(command)

    def stop_worker(self) -> None:
        worker, self.worker = self.worker, None
        if worker is not None:
            for signal in (worker.frame_ready, worker.failed, worker.recovered):
                signal.disconnect()  # nothing it still had queued reaches the window
            worker.stop()

    def ensure_ring(self, rate: int | None = None) -> SampleRing:
        """The analysis ring at `rate` (default: the models' rate), rebuilt when its rate
        differs; a running worker moves to the new ring (it converts to the models' rate)."""
        rate = rate or self.contract.sample_rate
        if self.ring.sample_rate != rate:
            self.ring = SampleRing(int(RING_SECONDS * rate), rate)
            if self.worker is not None:
                self.stop_worker()
                self.start_worker()
        return self.ring

    def close(self) -> None:
        """Stop the worker; a reload that finishes after this starts none."""
        for signal in (self.loader.loaded, self.loader.failed):
            with contextlib.suppress(TypeError):  # an earlier close disconnected it
                signal.disconnect()
        self.stop_worker()
