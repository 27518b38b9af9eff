"""Long tracks for memory tests, and the peak memory of a Python subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
LONG_TRACK_RATE = 8_000  # 8-bit 8 kHz keeps a long file small on disk and quick to write


def write_long_track(path: Path, minutes: int, frequency: float = 440.0) -> Path:
    """An 8-bit 8 kHz mono WAV of `minutes`: a tone at `frequency` with noise, written a
    minute at a time."""
    rng = np.random.default_rng(0)
    minute = np.arange(60 * LONG_TRACK_RATE) / LONG_TRACK_RATE
    tone = 0.4 * np.sin(2 * np.pi * frequency * minute)
    with sf.SoundFile(path, "w", LONG_TRACK_RATE, 1, "PCM_U8", format="WAV") as handle:
        for _ in range(minutes):
            handle.write((tone + 0.05 * rng.standard_normal(minute.size)).astype(np.float32))
    return path


def peak_rss_mb(code: str) -> float:
    """Run `code` in a fresh Python (repository on the path); its peak RSS in MB. The code
    must succeed. The process reads its own high-water mark (VmHWM) at its end: the rusage
    of an exec'd child also counts its parent's peak, which in a long test run is large."""
    report = (
        "\nprint(next(line.split()[1] for line in open('/proc/self/status')"
        " if line.startswith('VmHWM:')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code + report],
        cwd=REPO,
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return int(result.stdout.split()[-1]) / 1024
