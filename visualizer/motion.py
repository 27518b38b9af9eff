"""How the picture moves, measured from rendered frames (`musicscape bench --motion`).

Reads a `musicscape render --frames DIR` folder (the PNGs and frames.json), averages every
frame down to 64x64 (area mean) and takes each frame's change: the mean absolute difference
from the previous frame, in 1/255 units. Over every frame but the first, it reports:

- `beat_mean_change`: the mean change of the frames a beat started on;
- `p99_change`, `max_change`: over all frames (a render holds one scene mode throughout, so
  no frame is a performer's switch);
- `onset_correlation`: Pearson correlation of the change with the onset envelope, the
  spectral flux of each frame's newest analysis frame;
- `still_ratio`: the mean change of frames that saw no new analysis frame over that of
  frames that did (1 = both move alike; 0 = the former stand still).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

MEASURE_SIZE = 64


def area_mean(rgb: np.ndarray, size: int = MEASURE_SIZE) -> np.ndarray:
    """uint8 [N, N, 3] -> float [size, size, 3], each pixel the mean of its N/size square."""
    height, width, channels = rgb.shape
    if height % size or width % size:
        raise ValueError(f"a {width}x{height} frame does not divide into {size}x{size} blocks")
    blocks = rgb.reshape(size, height // size, size, width // size, channels)
    return blocks.mean(axis=(1, 3), dtype=np.float64)


def frame_changes(frames: np.ndarray) -> np.ndarray:
    """[F, H, W, 3] -> [F] mean absolute difference from the previous frame (0 for the first)."""
    changes = np.zeros(len(frames))
    changes[1:] = np.abs(np.diff(frames, axis=0)).mean(axis=(1, 2, 3))
    return changes


def load_frames(frames_dir: Path) -> tuple[np.ndarray, dict]:
    """The frames of a render folder averaged to 64x64, and its frames.json."""
    from PIL import Image

    with open(frames_dir / "frames.json") as handle:
        log = json.load(handle)
    frames = np.stack(
        [
            area_mean(np.asarray(Image.open(frames_dir / f"frame_{index:06d}.png")))
            for index in range(len(log["frames"]))
        ]
    )
    return frames, log


def motion_figures(changes: np.ndarray, log: dict) -> dict[str, float]:
    """The figures above from per-frame changes and the render's frames.json."""
    entries = log["frames"]
    if len(entries) < 3:
        raise ValueError(f"{len(entries)} frames: too few to measure motion")
    measured = slice(1, len(entries))
    change = changes[measured]
    beat = np.array([entry["beat"] for entry in entries[measured]], dtype=bool)
    onset = np.array([entry["onset"] for entry in entries[measured]])
    still = np.array([entry["new_analysis_frames"] == 0 for entry in entries[measured]])
    moving_mean = change[~still].mean() if (~still).any() else float("nan")
    return {
        "frames": int(len(change)),
        "fps": float(log["fps"]),
        "beats": int(beat.sum()),
        "beat_mean_change": float(change[beat].mean()) if beat.any() else float("nan"),
        "mean_change": float(change.mean()),
        "p99_change": float(np.percentile(change, 99)),
        "max_change": float(change.max()),
        "onset_correlation": float(np.corrcoef(change, onset)[0, 1]),
        "still_ratio": float(change[still].mean() / moving_mean) if still.any() else 1.0,
    }


def measure(frames_dir: Path) -> dict[str, float]:
    frames, log = load_frames(frames_dir)
    return motion_figures(frame_changes(frames), log)


def run_motion_bench(model_dir: Path, files: list[Path], size: int, fps: float) -> dict:
    """Render each file with --frames into a scratch folder and measure it."""
    import tempfile

    from visualizer.app.model_runtime import ModelRuntime
    from visualizer.render import render

    runtime = ModelRuntime(model_dir, intra_op_threads=1)
    report = {}
    for path in files:
        with tempfile.TemporaryDirectory(prefix="musicscape-motion-") as scratch:
            frames_dir = Path(scratch) / "frames"
            render(runtime, path, Path(scratch) / "motion.mp4", size, fps, frames_dir=frames_dir)
            report[path.name] = measure(frames_dir)
    return report
