"""`musicscape bench --osc`: how late beats reach an OSC receiver.

The real app runs headless on a file with `--osc-out` pointed at a python-osc server on
loopback in this process. Each `/musicscape/beat` carries the beat's audio time (the play
time of the analysis frame it was found in, on the monotonic clock); the latency is the
message's arrival time minus that.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from .app_bench import WARMUP_SECONDS, synthetic_music


def run_osc_bench(model_dir: Path, seconds: float, audio_file: str | None) -> dict:
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PyQt6.QtCore import QEventLoop, QTimer
    from PyQt6.QtWidgets import QApplication
    from pythonosc.dispatcher import Dispatcher
    from pythonosc.osc_server import ThreadingOSCUDPServer

    from .app_settings import SOURCE_FILE, AppSettings, settings_from_file
    from .main_window import MainWindow

    latencies: list[float] = []
    lock = threading.Lock()
    measuring = threading.Event()

    def on_beat(_address, audio_time):
        arrived = time.perf_counter()
        if measuring.is_set():
            with lock:
                latencies.append(arrived - audio_time)

    dispatcher = Dispatcher()
    dispatcher.map("/musicscape/beat", on_beat)
    server = ThreadingOSCUDPServer(("127.0.0.1", 0), dispatcher)
    serving = threading.Thread(target=server.serve_forever, name="osc-bench", daemon=True)
    serving.start()
    application = QApplication.instance() or QApplication(sys.argv[:1])
    try:
        with tempfile.TemporaryDirectory(prefix="musicscape-osc-bench-") as scratch:
            scratch_dir = Path(scratch)
            music = audio_file or synthetic_music(scratch_dir / "bench.wav", seconds + 30, 22_050)
            settings = AppSettings(settings_from_file(str(scratch_dir / "settings.ini")))
            settings.source_kind = SOURCE_FILE
            settings.file_path = str(music)
            window = MainWindow(settings, model_dir, scratch_dir / "no-demo")
            window.resize(1280, 720)
            window.show()
            try:
                if window.worker is None or window.source is None:
                    raise RuntimeError(window.fault_text() or "the app did not start")
                window.stage.send_osc("127.0.0.1", server.server_address[1])
                for duration in (WARMUP_SECONDS, seconds):
                    loop = QEventLoop()
                    QTimer.singleShot(round(duration * 1000), loop.quit)
                    loop.exec()
                    measuring.set()
                output = window.source.output_name
            finally:
                window.shutdown()
                window.close()
                application.processEvents()
    finally:
        server.shutdown()
        server.server_close()
    with lock:
        values = np.asarray(latencies) * 1e3
    return {
        "beats": len(values),
        "latency_ms_p50": float(np.percentile(values, 50)) if len(values) else None,
        "latency_ms_p95": float(np.percentile(values, 95)) if len(values) else None,
        "latency_ms_max": float(values.max()) if len(values) else None,
        "output_device": output,
        "latency_from": "a beat's audio time to its /musicscape/beat arriving on loopback",
    }
