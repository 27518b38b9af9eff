"""`musicscape bench --app`: the real app, headless, playing a file for N seconds.

The file plays through the default output device when there is one (a PulseAudio null
sink counts: it is a real device), otherwise through a clocked null output that hands
samples over in real time; the report says which. Figures come from what the canvas
actually painted: frame intervals, and latency from the play time of a beat's samples
to the paint of the first frame that beat influenced.

`musicscape bench --soak MINUTES` runs the app that long on the looping demo clip and
reports RSS and CPU every minute, and the RSS growth rate (a least-squares line through
the minutes after the first, in MB per hour).
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

WARMUP_SECONDS = 1.5


def synthetic_music(path: Path, seconds: float, rate: int) -> Path:
    """A chord with a drum-like burst every half second, written as WAV."""
    import soundfile as sf

    t = np.arange(int(seconds * rate)) / rate
    chord = sum(0.12 * np.sin(2 * np.pi * hz * t) for hz in (220.0, 277.2, 329.6))
    bursts = (np.mod(t, 0.5) < 0.05) * np.random.default_rng(0).standard_normal(len(t))
    sf.write(path, (chord + 0.4 * bursts).astype(np.float32), rate)
    return path


def run_app_bench(
    model_dir: Path,
    seconds: float,
    audio_file: str | None,
    output_size: int | None = None,
    fps: float = 60.0,
) -> dict:
    """The app on a file for `seconds` at `fps` frames a second; its frames at `output_size`
    pixels (None: the size the app picks, see output_size.py)."""
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import psutil
    from PyQt6.QtCore import QEventLoop, Qt, QTimer
    from PyQt6.QtWidgets import QApplication

    from .app_settings import SOURCE_FILE, AppSettings, settings_from_file
    from .frame_worker import WorkerSettings
    from .main_window import MainWindow

    application = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory(prefix="musicscape-bench-") as scratch:
        scratch_dir = Path(scratch)
        music = audio_file or synthetic_music(scratch_dir / "bench.wav", seconds + 30, 22_050)
        settings = AppSettings(settings_from_file(str(scratch_dir / "settings.ini")))
        settings.source_kind = SOURCE_FILE
        settings.file_path = str(music)
        window = MainWindow(
            settings,
            model_dir,
            scratch_dir / "no-demo",
            worker_settings=WorkerSettings(output_size=output_size, fps=fps),
        )
        window.resize(1280, 720)
        window.show()

        def wait(duration: float) -> None:
            loop = QEventLoop()
            QTimer.singleShot(round(duration * 1000), loop.quit)
            loop.exec()

        try:
            if window.worker is None or window.source is None:
                raise RuntimeError(window.fault_text() or "the app did not start")
            wait(WARMUP_SECONDS)
            window.stats.clear()
            process = psutil.Process()
            process.cpu_percent(None)
            started = time.perf_counter()
            overflows_before = window.ring.overflows
            produced_before = window.worker.frames_produced
            dropped_before = window.worker.dropped_frames
            encoder_runs_before = window.worker.encoder_runs
            # How long the GUI thread goes without serving a 2-ms timer while the app runs.
            ticks: list[float] = []
            ticker = QTimer()
            ticker.setTimerType(Qt.TimerType.PreciseTimer)
            ticker.timeout.connect(lambda: ticks.append(time.perf_counter()))
            ticker.start(2)
            wait(seconds)
            ticker.stop()
            gaps_ms = np.diff(ticks) * 1e3 if len(ticks) > 1 else np.zeros(1)
            cpu = process.cpu_percent(None)
            elapsed = time.perf_counter() - started
            summary = window.stats.summary()
            source = window.source
            interval_ms = 1e3 / window.worker.settings.fps
            report = {
                **summary,
                "output_size": window.worker.settings.output_size,
                "output_size_changes": window.worker.output_size_changes,
                "picture": window.panel.picture_label.text(),
                "frame_interval_target_ms": interval_ms,
                "frame_p95_over_interval": (summary["frame_ms_p95"] or math.nan) / interval_ms,
                "event_loop_gap_ms_p50": float(np.median(gaps_ms)),
                "event_loop_gap_ms_max": float(gaps_ms.max()),
                "cpu_percent": cpu,
                "rss_mb": process.memory_info().rss / 2**20,
                "input_overflows": int(window.ring.overflows - overflows_before),
                "output_underruns": int(getattr(source, "underruns", 0)),
                "seconds": elapsed,
                "output_device": source.output_name,
                "provider": window.runtime.active_provider,
                "frames_produced": window.worker.frames_produced - produced_before,
                "frames_dropped_before_display": window.worker.dropped_frames - dropped_before,
                "encoder_runs": window.worker.encoder_runs - encoder_runs_before,
                "faults": window.fault_text(),
                "frame_ms_means": "interval between consecutive painted frames",
                "latency_from": "play time of a beat's samples to the paint of its first frame",
            }
        finally:
            window.shutdown()
            window.close()
            application.processEvents()
    return report


def rss_growth_mb_per_hour(minutes: list[float], rss_mb: list[float]) -> float:
    """The slope of the least-squares line through (minute, RSS), in MB per hour."""
    slope = np.polyfit(np.asarray(minutes, dtype=float), np.asarray(rss_mb, dtype=float), 1)[0]
    return float(slope * 60.0)


def run_soak(model_dir: Path, demo_dir: Path, minutes: float, interval_seconds: float = 60.0):
    """Runs the app on the looping demo clip for `minutes`; prints and returns one sample
    (RSS, CPU, fps, faults) per `interval_seconds` and the RSS growth rate."""
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import psutil
    from PyQt6.QtCore import QEventLoop, QTimer
    from PyQt6.QtWidgets import QApplication

    from .app_settings import SOURCE_DEMO, AppSettings, settings_from_file
    from .main_window import MainWindow

    application = QApplication.instance() or QApplication(sys.argv[:1])
    samples = []
    with tempfile.TemporaryDirectory(prefix="musicscape-soak-") as scratch:
        settings = AppSettings(settings_from_file(str(Path(scratch) / "settings.ini")))
        settings.source_kind = SOURCE_DEMO
        window = MainWindow(settings, model_dir, demo_dir)
        window.resize(1280, 720)
        window.show()
        try:
            if window.worker is None or window.source is None:
                raise RuntimeError(window.fault_text() or "the app did not start")
            process = psutil.Process()
            process.cpu_percent(None)
            started = time.perf_counter()
            for index in range(1, max(1, round(minutes * 60.0 / interval_seconds)) + 1):
                loop = QEventLoop()
                due = started + index * interval_seconds - time.perf_counter()
                QTimer.singleShot(max(0, round(due * 1000)), loop.quit)
                loop.exec()
                now = time.perf_counter()
                sample = {
                    "minute": (now - started) / 60.0,
                    "rss_mb": process.memory_info().rss / 2**20,
                    "cpu_percent": process.cpu_percent(None),
                    "fps": window.stats.fps(now),
                    "faults": window.fault_text(),
                }
                samples.append(sample)
                print(
                    f"soak {sample['minute']:6.1f} min  rss {sample['rss_mb']:7.1f} MB  "
                    f"cpu {sample['cpu_percent']:5.1f}%  fps {sample['fps']:4.0f}"
                    + (f"  faults: {sample['faults']}" if sample["faults"] else ""),
                    flush=True,
                )
        finally:
            window.shutdown()
            window.close()
            application.processEvents()
    after_first = [sample for sample in samples if sample["minute"] > 1.0 + 1e-6] or samples
    growth = (
        rss_growth_mb_per_hour(
            [sample["minute"] for sample in after_first],
            [sample["rss_mb"] for sample in after_first],
        )
        if len(after_first) >= 2
        else None
    )
    return {"samples": samples, "rss_growth_mb_per_hour": growth}
