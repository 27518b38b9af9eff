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

That first pick is made once, at start, on a machine that may be busy then and idle later,
or the other way round (a VJ's show software starting beside it). `OutputGovernor` keeps it
right while the app runs: it times every frame's generator and upscale, and steps one level
down the ladder (`output_levels`, in order of preference) when a second's median overruns
the budget by a fifth, so the display rate holds, and one level up when a second's median
uses less than three quarters of it (or, for a level timed at start whose next level was
timed too, when the second's median plus the next level's extra cost fits the budget: on
the busy machine below, 64 px took 3.25 ms, over three quarters of 4.2 ms, while 128 px
needed only 0.3 ms more). A step up adds only the upscale's growth, as the
generator costs the same at every size (on the loaded 2-core machine: 2.3 ms at 64 px, 3.2
ms at 256 px bicubic, 3.7 ms at 384 px, against a budget of 4.2 ms at 60 fps). Between the
two thresholds it stays: on an idle machine 256 px took 3.7-4.3 ms a second, and stepping
down at a plain overrun sent it to 64 px. A level it had to leave is not tried again for a
while, twice as long each time, so a size that does not fit is not retried every few
seconds. The first two seconds are not judged: there the first encoder runs and cold caches
made an idle machine's first second overrun at a size that fits.

The bicubic rungs start at 128 px, not 256: on the same machine busy with training beside
the app, the generator alone took 3.0 ms, 256 px 4.4 ms, 192 px 4.1 ms and 128 px 3.5 ms
(medians, budget 4.2 ms). With 256 px as the first rung the app fell to 64 px, which the
canvas enlarged six-fold into visible blocks; 128 or 192 px keeps it at two to three-fold.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from visualizer.upscale import Upscaler

CANDIDATE_SIZES = (128, 192, 256, 384, 512, 768, 1024)
FRAME_SHARE = 0.25
TIMED_FRAMES = 6
STEP_UP_SHARE = 0.75  # step up when a second's median uses less than this share of the budget
STEP_DOWN_SHARE = 1.2  # step down when it uses more than this share of it
RETRY_SECONDS = 10.0  # a level left for being too slow waits this long, doubled each time
MAX_RETRY_SECONDS = 320.0
WARMUP_SECONDS = 2.0  # not judged: the first encoder runs and cold caches slow the first frames


@dataclass(frozen=True)
class OutputLevel:
    """One rung of the ladder: frames of `size` px made by `upscaler`."""

    size: int
    upscaler: Upscaler


def _plain(upscaler: Upscaler) -> Upscaler:
    """The bicubic resize: `upscaler` itself when it is not learned."""
    return upscaler if not upscaler.learned else Upscaler()


def _learned_fits(image_size: int, upscaler: Upscaler, size: int) -> bool:
    """Whether `upscaler` is learned and `size` is at least its own output's
    (`image_size` x its scale): below it the model would cost as much and its picture be
    shrunk again."""
    return upscaler.learned and size >= image_size * upscaler.metadata.scale


def output_levels(image_size: int, upscaler: Upscaler) -> list[OutputLevel]:
    """The sizes the app can show, least preferred first: the generator's own size, then the
    bicubic resize to each candidate size, then (with a learned upscaler) the learned one to
    each candidate size from its own output's up (`_learned_fits`); the same order
    `pick_output` prefers them in."""
    plain = _plain(upscaler)
    sizes = [size for size in CANDIDATE_SIZES if size > image_size]
    levels = [OutputLevel(image_size, plain)] + [OutputLevel(size, plain) for size in sizes]
    levels += [
        OutputLevel(size, upscaler) for size in sizes if _learned_fits(image_size, upscaler, size)
    ]
    return levels


def asked_level(image_size: int, upscaler: Upscaler, size: int) -> OutputLevel:
    """The level for a size the performer asked for (`--size`), by the rule of
    `output_levels`: learned where `_learned_fits`, else the bicubic resize."""
    if _learned_fits(image_size, upscaler, size):
        return OutputLevel(size, upscaler)
    return OutputLevel(size, _plain(upscaler))


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


LevelTimings = dict[OutputLevel, float]  # a level's frame work, median seconds


def largest_fitting(
    runtime, levels: list[OutputLevel], budget: float, timings: LevelTimings | None = None
) -> OutputLevel | None:
    """The largest of `levels` (ascending sizes, one upscaler) whose frame work fits
    `budget` seconds, or None; each level timed goes into `timings` when given."""
    fitting = None
    for level in levels:
        seconds = frame_work_seconds(runtime, level.upscaler, level.size)
        if timings is not None:
            timings[level] = seconds
        if seconds > budget:
            break
        fitting = level
    return fitting


def pick_output(
    runtime, levels: list[OutputLevel], fps: float, timings: LevelTimings | None = None
) -> OutputLevel:
    """The level of `output_levels` that holds `fps` here: the learned upscaler's largest
    that fits, else the bicubic resize's, else the generator's own size. The frame work of
    every level it timed (the generator's own size always) goes into `timings` when given,
    for the `OutputGovernor`."""
    budget = FRAME_SHARE / fps
    native, *enlarged = levels
    if timings is not None:
        timings[native] = frame_work_seconds(runtime, native.upscaler, native.size)
    for learned in (True, False):
        candidates = [level for level in enlarged if level.upscaler.learned == learned]
        fitting = largest_fitting(runtime, candidates, budget, timings)
        if fitting is not None:
            return fitting
    return native


class OutputGovernor:
    """Moves the output along `levels` as frames' work times say (see the module docstring).

    `record(seconds)` takes each frame's generator-plus-upscale time and returns the level
    to make the next frame at. Decisions count frames, not wall time, so they follow from
    the times alone; `fps` turns the docstring's seconds into frames. `timings` (from
    `pick_output`) say what each level timed at start cost: where both the current level
    and the next have one, an easy second steps up when its median plus the next level's
    extra cost fits the budget, instead of when it uses under three quarters of it."""

    def __init__(
        self,
        levels: list[OutputLevel],
        start: OutputLevel,
        fps: float,
        timings: LevelTimings | None = None,
    ):
        if start not in levels:
            raise ValueError(f"{start} is not one of the output levels")
        self.levels = levels
        self.timings = dict(timings or {})
        self.index = levels.index(start)
        self.budget = FRAME_SHARE / fps
        self.window_frames = max(1, round(fps))
        self.warmup_frames = round(WARMUP_SECONDS * fps)
        self.retry_frames = max(1, round(RETRY_SECONDS * fps))
        self.max_retry_frames = max(1, round(MAX_RETRY_SECONDS * fps))
        self._times: list[float] = []
        self._frame = 0
        self._blocked_until: dict[int, int] = {}  # level index -> first frame to try it again
        self._wait: dict[int, int] = {}  # level index -> its next blocking, in frames
        self.steps_down = 0
        self.steps_up = 0

    @property
    def level(self) -> OutputLevel:
        return self.levels[self.index]

    def record(self, seconds: float) -> OutputLevel:
        self._frame += 1
        if self._frame <= self.warmup_frames:
            return self.level
        self._times.append(seconds)
        if len(self._times) < self.window_frames:
            return self.level
        median = float(np.median(self._times))
        self._times.clear()
        if median > STEP_DOWN_SHARE * self.budget and self.index > 0:
            wait = self._wait.get(self.index, self.retry_frames)
            self._blocked_until[self.index] = self._frame + wait
            self._wait[self.index] = min(2 * wait, self.max_retry_frames)
            self.index -= 1
            self.steps_down += 1
        elif (
            self.index + 1 < len(self.levels)
            and self._frame >= self._blocked_until.get(self.index + 1, 0)
            and self._next_level_fits(median)
        ):
            self.index += 1
            self.steps_up += 1
        return self.level

    def _next_level_fits(self, median: float) -> bool:
        """Whether a second whose median frame work was `median` at this level leaves room
        for the next one (see the class docstring)."""
        here, above = self.levels[self.index], self.levels[self.index + 1]
        if here in self.timings and above in self.timings:
            return median + self.timings[above] - self.timings[here] < self.budget
        return median < STEP_UP_SHARE * self.budget
