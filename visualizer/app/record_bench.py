"""`musicscape bench --recording`: what recording costs the live picture.

The real app runs headless on a file for N seconds without recording, then N seconds while
recording (`Stage.start_recording`, H.264 or ProRes 422, + AAC on the recorder's thread). For
each half: frames painted per second, frames the worker made that the GUI never took, and the
95th-percentile frame interval; for the recording: frames it was handed, wrote, and dropped
because the encoder fell behind.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from .app_bench import WARMUP_SECONDS
from .headless_run import headless_window, wait


def _live(window, seconds: float) -> dict:
    worker = window.worker
    window.stats.clear()
    dropped = worker.dropped_frames
    wait(seconds)
    summary = window.stats.summary()
    return {
        "fps": summary["fps"],
        "frame_ms_p95": summary["frame_ms_p95"],
        "frames_not_taken_by_gui": worker.dropped_frames - dropped,
        "frames_painted": len(window.stats.display_times),
    }


def run_record_bench(
    model_dir: Path,
    seconds: float,
    audio_file: str | None,
    codec: str,
    aspect: float | None = None,
) -> dict:
    """`aspect`: the recording's shape (None: as the canvas shows the picture)."""
    with (
        tempfile.TemporaryDirectory(prefix="musicscape-record-") as out,
        headless_window(model_dir, 2 * seconds + 30, audio_file) as window,
    ):
        window.stage.record_dir = Path(out)
        window.stage.set_record_codec(codec)
        wait(WARMUP_SECONDS)
        without = _live(window, seconds)
        if not window.stage.start_recording(aspect):
            raise RuntimeError(window.stage.record_label.text())
        with_recording = _live(window, seconds)
        summary = window.stage.stop_recording()
        size_mb = summary.path.stat().st_size / 2**20
    report = {f"live_{name}": value for name, value in without.items()}
    report.update({f"recording_live_{name}": value for name, value in with_recording.items()})
    report.update(
        {
            "codec": codec,
            "recorded_size": f"{summary.width} x {summary.height}",
            "recorded_seconds": summary.seconds,
            "recorder_frames_handed": summary.frames_shown,
            "recorder_frames_written": summary.frames_written,
            "recorder_frames_dropped": summary.frames_dropped,
            "recorder_frames_repeated": summary.frames_repeated,
            "recorder_frames_merged": summary.frames_merged,
            "file_mb": size_mb,
            "error": summary.error,
        }
    )
    return {key: (float(v) if isinstance(v, np.floating) else v) for key, v in report.items()}
