"""How bright the picture that goes out is: a master fader times a blackout that fades.

A VJ dims the scene under a song's quiet passage with the master fader (0-1, follows the
fader at once: the fader's own movement is the fade) and takes it to black between acts
with the blackout, which ramps to black, and back, at a constant rate: a full fade takes
`fade_seconds` (0: a cut), and a blackout undone halfway through comes back from where it
had got to, without a jump. The canvas, the recording, NDI and saved pictures all get the
same dimmed picture (`Stage.frame`).

`OutputLevel` is plain state on the GUI thread's clock (`time.perf_counter` seconds);
`dim` applies a gain to a uint8 RGB picture in integer steps of 1/256 (`musicscape bench`
times it: `dim_512`, `dim_1024`; nothing is done at full level).
"""

from __future__ import annotations

import numpy as np

MAX_FADE_SECONDS = 10.0  # the longest blackout fade the panel, OSC and MIDI offer
GAIN_BITS = 8
GAIN_STEPS = 1 << GAIN_BITS  # the gain is applied in steps of 1/256


class OutputLevel:
    def __init__(self, fade_seconds: float = 0.0):
        self.master = 1.0
        self.blackout = False
        self.fade_seconds = fade_seconds
        self._lit = 1.0  # 1 = not blacked out, 0 = black; as it was at `_since`
        self._since = 0.0

    def lit(self, now: float) -> float:
        """How far the blackout lets the picture through at `now`: 0 (black) to 1."""
        target = 0.0 if self.blackout else 1.0
        if self.fade_seconds <= 0.0:
            return target
        step = (now - self._since) / self.fade_seconds
        if target < self._lit:
            return max(target, self._lit - step)
        return min(target, self._lit + step)

    def gain(self, now: float) -> float:
        """The share of each pixel's value that goes out at `now`."""
        return self.master * self.lit(now)

    def set_blackout(self, on: bool, now: float) -> None:
        self._anchor(now)
        self.blackout = on

    def set_fade_seconds(self, seconds: float, now: float) -> None:
        """A new fade time; a fade under way goes on from where it is at the new rate."""
        self._anchor(now)
        self.fade_seconds = seconds

    def _anchor(self, now: float) -> None:
        self._lit = self.lit(now)
        self._since = now


def dim(image: np.ndarray, gain: float) -> np.ndarray:
    """uint8 `image` with every value times `gain`, rounded to the nearest step of 1/256;
    the image itself where that is 1."""
    steps = round(min(max(gain, 0.0), 1.0) * GAIN_STEPS)
    if steps == GAIN_STEPS:
        return image
    scaled = image.astype(np.uint16) * steps + GAIN_STEPS // 2  # at most 255 * 255 + 128
    return (scaled >> GAIN_BITS).astype(np.uint8)
