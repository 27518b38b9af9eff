"""The real app, headless, playing a file: the shared set-up of `bench --osc-beats` and
`bench --recording` (offscreen Qt when there is no display, settings in a scratch file)."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .app_bench import synthetic_music


def wait(seconds: float) -> None:
    """Run the event loop for `seconds`."""
    from PyQt6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(round(seconds * 1000), loop.quit)
    loop.exec()


@contextlib.contextmanager
def headless_window(model_dir: Path, music_seconds: float, audio_file: str | None) -> Iterator:
    """A shown MainWindow playing `audio_file` (default: a synthetic beat track this long);
    shut down on exit. RuntimeError when it cannot start."""
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PyQt6.QtWidgets import QApplication

    from .app_settings import SOURCE_FILE, AppSettings, settings_from_file
    from .main_window import MainWindow

    application = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory(prefix="musicscape-bench-") as scratch:
        scratch_dir = Path(scratch)
        music = audio_file or synthetic_music(scratch_dir / "bench.wav", music_seconds, 22_050)
        settings = AppSettings(settings_from_file(str(scratch_dir / "settings.ini")))
        settings.source_kind = SOURCE_FILE
        settings.file_path = str(music)
        window = MainWindow(settings, model_dir, scratch_dir / "no-demo")
        window.resize(1280, 720)
        window.show()
        try:
            if window.worker is None or window.source is None:
                raise RuntimeError(window.fault_text() or "the app did not start")
            yield window
        finally:
            window.shutdown()
            window.close()
            application.processEvents()
