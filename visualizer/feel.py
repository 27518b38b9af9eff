"""Light and colour that follow the music's feel: arousal and valence -> CIELAB targets.

The music's descriptors (frontend/descriptors.py) give an arousal and a valence estimate
per analysis window; `FeelFollower` smooths them over a few seconds, and `colour_target`
maps them to the mean light and colour a picture of that music should have, in the
direction of the music-colour studies (Palmer et al., PNAS 2013: faster, major-mode music
with lighter, more saturated, yellower colours, slower minor music with darker, greyer,
bluer ones; Whiteford et al., i-Perception 2018: loud, harsh music with darker, redder,
more saturated ones). Arousal and valence are read in units of their spread on real music
(za = (arousal - 0.36) / 0.24, zv = valence / 0.18, each clipped to +-2.5: measured on 536
windows of ../shared/data/music-unlabelled), and the targets in units of the spread of the
photos the models draw (mean L* 51.7 +- 11.5, C* 16.6 +- 11.0, b* -0.1 +- 13.6 over 600
photos at 64 px):
    L* target = 51.7 + 11.5 (0.7 zv - 0.3 za)
    C* target = 16.6 + 11.0 (0.6 za + 0.3 zv)
    b* target = -0.1 + 13.6 (0.8 zv)
    a* push   = 3 max(za - zv, 0)                      (loud and dark: redder)
`grade` moves a picture a share s (the strength, 0 = off, 1 = all the way) from its own
mean L*, C* and b* to the target's (and pushes a* by s times the redness). At s = 1 every
picture of a feel has that feel's mean L*, C* and b*; at the default 0.5 the scene keeps
half of its own. The
category and the scene still come from the models and the performer; only light and colour
move. The grade works on the generator's picture before it is upscaled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from visualizer.frontend.descriptors import MusicDescriptors
from visualizer.picture_attributes import lab_to_srgb, srgb_to_lab

FEEL_MEMORY_SECONDS = 4.0
DEFAULT_FEEL_STRENGTH = 0.5
MAX_FEEL_STRENGTH = 1.0
# Feel on real music: (mean, spread) of arousal and valence per window (module docstring).
AROUSAL_SPREAD = (0.36, 0.24)
VALENCE_SPREAD = (0.0, 0.18)
FEEL_Z_LIMIT = 2.5
CHROMA_SCALE_LIMIT = 4.0  # the colours' spread grows at most this much
CHROMA_BISECTIONS = 14
# Light and colour of the photos: (mean, spread) of a photo's mean L*, C* and b*.
PHOTO_LIGHTNESS = (51.7, 11.5)
PHOTO_CHROMA = (16.6, 11.0)
PHOTO_YELLOWNESS = (-0.1, 13.6)


@dataclass(frozen=True)
class ColourTarget:
    """The mean light and colour a picture of some feel moves toward (see the docstring)."""

    lightness: float  # mean L*
    chroma: float  # mean C*
    yellowness: float  # mean b*
    redness: float  # added to a*


def colour_target(arousal: float, valence: float) -> ColourTarget:
    """The target for a feel, by the formula in the module docstring."""
    za = float(
        np.clip((arousal - AROUSAL_SPREAD[0]) / AROUSAL_SPREAD[1], -FEEL_Z_LIMIT, FEEL_Z_LIMIT)
    )
    zv = float(
        np.clip((valence - VALENCE_SPREAD[0]) / VALENCE_SPREAD[1], -FEEL_Z_LIMIT, FEEL_Z_LIMIT)
    )
    return ColourTarget(
        lightness=PHOTO_LIGHTNESS[0] + PHOTO_LIGHTNESS[1] * (0.7 * zv - 0.3 * za),
        chroma=max(PHOTO_CHROMA[0] + PHOTO_CHROMA[1] * (0.6 * za + 0.3 * zv), 0.0),
        yellowness=PHOTO_YELLOWNESS[0] + PHOTO_YELLOWNESS[1] * 0.8 * zv,
        redness=3.0 * max(za - zv, 0.0),
    )


def describe_feel(arousal: float, valence: float) -> str:
    """The feel in words, against the typical feel of real music (half a spread either way
    counts), with the numbers: "energetic, bright (arousal +0.62, valence +0.20)"."""
    za = (arousal - AROUSAL_SPREAD[0]) / AROUSAL_SPREAD[1]
    zv = (valence - VALENCE_SPREAD[0]) / VALENCE_SPREAD[1]
    energy = "energetic" if za > 0.5 else "calm" if za < -0.5 else "moderate"
    mood = "bright" if zv > 0.5 else "dark" if zv < -0.5 else "neutral"
    return f"{energy}, {mood} (arousal {arousal:+.2f}, valence {valence:+.2f})"


def check_strength(strength: float) -> float:
    if not (math.isfinite(strength) and 0.0 <= strength <= MAX_FEEL_STRENGTH):
        raise ValueError(f"feel strength must be in [0, {MAX_FEEL_STRENGTH:g}], got {strength}")
    return strength


def grade(image: np.ndarray, target: ColourTarget, strength: float) -> np.ndarray:
    """A generator picture [3, H, W] in [-1, 1] moved `strength` of the way from its own mean
    L*, C* and b* to `target`'s (same shape and range); strength 0 returns `image` itself.

    L* is shifted; the mean b* is shifted and the mean a* pushed by the redness; then the
    colours' spread around that mean colour is scaled (by bisection) until the mean chroma
    is the blend of the picture's own and the target's. Clipping to the sRGB gamut can
    leave the drawn figures short of the asked ones for extreme targets."""
    if check_strength(strength) == 0.0:
        return image
    rgb = (np.moveaxis(np.asarray(image, dtype=np.float64), 0, -1) + 1.0) / 2.0
    lab = srgb_to_lab(np.clip(rgb, 0.0, 1.0))
    lightness, a, b = lab[..., 0], lab[..., 1], lab[..., 2]
    mean_a, mean_b = float(a.mean()), float(b.mean())
    new_a = mean_a + strength * target.redness
    new_b = mean_b + strength * (target.yellowness - mean_b)
    wanted = (1.0 - strength) * float(np.hypot(a, b).mean()) + strength * target.chroma
    low, high = 0.0, CHROMA_SCALE_LIMIT
    for _ in range(CHROMA_BISECTIONS):
        scale = 0.5 * (low + high)
        chroma = np.hypot(new_a + scale * (a - mean_a), new_b + scale * (b - mean_b)).mean()
        low, high = (scale, high) if chroma < wanted else (low, scale)
    scale = 0.5 * (low + high)
    lab[..., 0] = np.clip(lightness + strength * (target.lightness - lightness.mean()), 0.0, 100.0)
    lab[..., 1] = new_a + scale * (a - mean_a)
    lab[..., 2] = new_b + scale * (b - mean_b)
    graded = lab_to_srgb(lab) * 2.0 - 1.0
    return np.moveaxis(graded, -1, 0).astype(image.dtype)


class FeelFollower:
    """Arousal and valence glide toward the newest window's, over about `memory_seconds`
    (an exponential approach advanced every displayed frame by `step`, so light and colour
    never jump when a new window is described). They start at the typical feel of real
    music (AROUSAL_SPREAD, VALENCE_SPREAD means), whose target is the photos' mean."""

    def __init__(self, memory_seconds: float = FEEL_MEMORY_SECONDS):
        if not memory_seconds > 0:
            raise ValueError(f"feel memory must be > 0 s, got {memory_seconds}")
        self.memory_seconds = memory_seconds
        self.reset()

    def reset(self) -> None:
        self.arousal = self._goal_arousal = AROUSAL_SPREAD[0]
        self.valence = self._goal_valence = VALENCE_SPREAD[0]
        self._last_time: float | None = None

    def update(self, descriptors: MusicDescriptors) -> None:
        """The newest window's feel becomes the goal."""
        self._goal_arousal, self._goal_valence = descriptors.arousal, descriptors.valence

    def step(self, now: float) -> None:
        """Advance toward the goal to display time `now` (seconds)."""
        if self._last_time is not None:
            move = 1.0 - math.exp(-max(now - self._last_time, 0.0) / self.memory_seconds)
            self.arousal += move * (self._goal_arousal - self.arousal)
            self.valence += move * (self._goal_valence - self.valence)
        self._last_time = now

    def target(self) -> ColourTarget:
        return colour_target(self.arousal, self.valence)


def requested_attributes(
    base: np.ndarray,
    target: ColourTarget,
    strength: float,
    mean: np.ndarray,
    spread: np.ndarray,
) -> np.ndarray:
    """What to ask a generator that draws the light and colour it is asked for (attributes
    in units of the photos' `mean` and `spread`, in picture_attributes.ATTRIBUTE_NAMES order:
    lightness, chroma, yellowness, contrast): `base` (the scored category's typical light and
    colour) moved `strength` of the way toward `target`'s lightness, chroma and yellowness,
    as `grade` moves a drawn picture; contrast stays the base's. Redness has no attribute
    and is not asked."""
    check_strength(strength)
    wanted = np.array([target.lightness, target.chroma, target.yellowness], dtype=np.float64)
    wanted_z = (wanted - np.asarray(mean[:3], np.float64)) / np.asarray(spread[:3], np.float64)
    request = np.array(base, dtype=np.float64)
    request[:3] += strength * (wanted_z - request[:3])
    return request.astype(np.float32)
