"""The largest picture the frame worker can make at the display rate on this machine.

The worker's per-frame work that grows with the output size is the generator plus the
upscaler (`visualizer.upscale`: learned when the model directory has one, else a bicubic
resize). `pick_output_size` times both on this machine for each candidate size, largest
first, and keeps the first whose median time fits `FRAME_SHARE` of the frame interval; the
rest of the interval is left to the analysis, the encoder (a few times a second), painting
and the other thread. (The median, not a high percentile: on a shared machine the slowest
frames are other processes' time slices, which hit every size alike.) No candidate fits:
the generator's own size.
"""

from __future__ import annotations

import time

import numpy as np

CANDIDATE_SIZES = (1024, 768, 512, 384, 256)
FRAME_SHARE = 0.5
TIMED_FRAMES = 12


def frame_work_seconds(runtime, upscaler, size: int, frames: int = TIMED_FRAMES) -> float:
    """Median seconds of one generator run plus its upscale to `size`."""
    meta = runtime.metadata
    rng = np.random.default_rng(0)
    noise = rng.standard_normal(meta.noise_dim).astype(np.float32)
    feature = rng.standard_normal(meta.feature_dim).astype(np.float32)
    upscaler.upscale(runtime.generate(noise, feature), size)  # warm-up
    durations = []
    for _ in range(frames):
        started = time.perf_counter()
        upscaler.upscale(runtime.generate(noise, feature), size)
        durations.append(time.perf_counter() - started)
    return float(np.median(durations))


def pick_output_size(runtime, upscaler, fps: float) -> int:
    """The largest of CANDIDATE_SIZES (above the generator's size) that holds `fps`."""
    budget = FRAME_SHARE / fps
    native = runtime.metadata.image_size
    for size in CANDIDATE_SIZES:
        if size > native and frame_work_seconds(runtime, upscaler, size) <= budget:
            return size
    return native
