"""The largest picture the frame worker can make at the display rate on this machine.

The worker's per-frame work that grows with the output size is the generator plus the
upscaler (`visualizer.upscale`: learned when the model directory has one, else a bicubic
resize). `pick_output` times both on this machine for the candidate sizes, smallest first
(the cost grows with the size, so the search stops at the first that does not fit), and
keeps the largest whose median time fits `FRAME_SHARE` of the frame interval. The rest of
the interval is left to the analysis, the encoder (a few times a second), the other thread
and painting, which grows with the size too: on the 2-core development machine under load,
half the interval let the app pick 384-768 px and its beat-to-picture latency rose from
18-21 ms at 64 px to 50-63 ms. The median, not a high percentile: on a shared machine the
slowest frames are other processes' time slices, which hit every size alike. A learned
upscaler is tried first; when it fits no size, the bicubic resize is; when nothing fits,
the generator's own size, which the canvas enlarges as it paints.
"""

from __future__ import annotations

import time

import numpy as np

from visualizer.upscale import Upscaler

CANDIDATE_SIZES = (256, 384, 512, 768, 1024)
FRAME_SHARE = 0.25
TIMED_FRAMES = 6


def frame_work_seconds(runtime, upscaler: Upscaler, size: int, frames: int = TIMED_FRAMES):
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


def largest_fitting_size(runtime, upscaler: Upscaler, budget: float) -> int | None:
    """The largest of CANDIDATE_SIZES above the generator's size whose frame work fits
    `budget` seconds, or None."""
    fitting = None
    for size in CANDIDATE_SIZES:
        if size <= runtime.metadata.image_size:
            continue
        if frame_work_seconds(runtime, upscaler, size) > budget:
            break
        fitting = size
    return fitting


def pick_output(runtime, upscaler: Upscaler, fps: float) -> tuple[int, Upscaler]:
    """The output size that holds `fps` here and the upscaler to make it with."""
    budget = FRAME_SHARE / fps
    for candidate in (upscaler, Upscaler()) if upscaler.learned else (upscaler,):
        size = largest_fitting_size(runtime, candidate, budget)
        if size is not None:
            return size, candidate
    return runtime.metadata.image_size, Upscaler()
