"""Light and colour that follow the music's feel: arousal and valence -> a CIELAB grade.

The music's descriptors (frontend/descriptors.py) give an arousal and a valence estimate
per analysis window; `FeelFollower` smooths them over a few seconds, and `colour_shift`
maps them to a change of the picture in CIELAB, in the direction of the music-colour
studies (Palmer et al., PNAS 2013: faster, major-mode music with lighter, more saturated,
yellower colours, slower minor music with darker, greyer, bluer ones; Whiteford et al.,
i-Perception 2018: loud, harsh music with darker, redder, more saturated ones). At
strength s (0 = off, 1 = full):
    lightness  L* += s * (12 valence - 4 arousal)
    saturation a*, b* *= 1 + s * (0.35 arousal + 0.15 valence)
    yellowness b* += s * 10 valence
    redness    a* += s * 6 arousal * (1 - valence) / 2
The category and the scene still come from the models and the performer; only light and
colour move. The grade works on the generator's picture before it is upscaled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from visualizer.frontend.descriptors import MusicDescriptors

FEEL_MEMORY_SECONDS = 4.0
DEFAULT_FEEL_STRENGTH = 0.5
MAX_FEEL_STRENGTH = 2.0

# sRGB (D65) <-> CIE XYZ
_RGB_TO_XYZ = np.array(
    [
        [0.4124564, 0.3575761, 0.1804375],
        [0.2126729, 0.7151522, 0.0721750],
        [0.0193339, 0.1191920, 0.9503041],
    ]
)
_XYZ_TO_RGB = np.linalg.inv(_RGB_TO_XYZ)
_WHITE = _RGB_TO_XYZ.sum(axis=1)  # D65 white point, Y = 1
_EPSILON = 216.0 / 24389.0
_KAPPA = 24389.0 / 27.0


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """[..., 3] sRGB in [0, 1] -> [..., 3] CIELAB (L* 0-100)."""
    rgb = np.asarray(rgb, dtype=np.float64)
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = linear @ _RGB_TO_XYZ.T / _WHITE
    f = np.where(xyz > _EPSILON, np.cbrt(xyz), (_KAPPA * xyz + 16.0) / 116.0)
    return np.stack(
        [
            116.0 * f[..., 1] - 16.0,
            500.0 * (f[..., 0] - f[..., 1]),
            200.0 * (f[..., 1] - f[..., 2]),
        ],
        axis=-1,
    )


def lab_to_srgb(lab: np.ndarray) -> np.ndarray:
    """[..., 3] CIELAB -> [..., 3] sRGB, clipped to [0, 1]."""
    lab = np.asarray(lab, dtype=np.float64)
    fy = (lab[..., 0] + 16.0) / 116.0
    f = np.stack([fy + lab[..., 1] / 500.0, fy, fy - lab[..., 2] / 200.0], axis=-1)
    cubed = f**3
    xyz = np.where(cubed > _EPSILON, cubed, (116.0 * f - 16.0) / _KAPPA)
    xyz[..., 1] = np.where(lab[..., 0] > _KAPPA * _EPSILON, fy**3, lab[..., 0] / _KAPPA)
    linear = np.clip((xyz * _WHITE) @ _XYZ_TO_RGB.T, 0.0, 1.0)
    return np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)


@dataclass(frozen=True)
class PictureAttributes:
    lightness: float  # mean L*
    chroma: float  # mean C* = sqrt(a*^2 + b*^2)
    yellowness: float  # mean b*
    contrast: float  # standard deviation of L*


def picture_attributes(rgb: np.ndarray) -> PictureAttributes:
    """Light and colour of a uint8 [H, W, 3] picture."""
    lab = srgb_to_lab(np.asarray(rgb, dtype=np.float64) / 255.0)
    return PictureAttributes(
        lightness=float(lab[..., 0].mean()),
        chroma=float(np.hypot(lab[..., 1], lab[..., 2]).mean()),
        yellowness=float(lab[..., 2].mean()),
        contrast=float(lab[..., 0].std()),
    )


@dataclass(frozen=True)
class ColourShift:
    lightness: float = 0.0  # added to L*
    saturation: float = 1.0  # a* and b* scaled by this
    yellowness: float = 0.0  # added to b*
    redness: float = 0.0  # added to a*

    @property
    def is_identity(self) -> bool:
        return self == ColourShift()


def colour_shift(arousal: float, valence: float, strength: float) -> ColourShift:
    """The grade for a feel, by the formula in the module docstring."""
    if not 0.0 <= strength <= MAX_FEEL_STRENGTH or not math.isfinite(strength):
        raise ValueError(f"feel strength must be in [0, {MAX_FEEL_STRENGTH}], got {strength}")
    if strength == 0.0:
        return ColourShift()
    return ColourShift(
        lightness=strength * (12.0 * valence - 4.0 * arousal),
        saturation=max(1.0 + strength * (0.35 * arousal + 0.15 * valence), 0.0),
        yellowness=strength * 10.0 * valence,
        redness=strength * 6.0 * arousal * (1.0 - valence) / 2.0,
    )


def grade(image: np.ndarray, shift: ColourShift) -> np.ndarray:
    """A generator picture [3, H, W] in [-1, 1] graded by `shift` (same shape and range)."""
    if shift.is_identity:
        return image
    rgb = (np.moveaxis(np.asarray(image, dtype=np.float64), 0, -1) + 1.0) / 2.0
    lab = srgb_to_lab(np.clip(rgb, 0.0, 1.0))
    lab[..., 0] = np.clip(lab[..., 0] + shift.lightness, 0.0, 100.0)
    lab[..., 1] = lab[..., 1] * shift.saturation + shift.redness
    lab[..., 2] = lab[..., 2] * shift.saturation + shift.yellowness
    graded = lab_to_srgb(lab) * 2.0 - 1.0
    return np.moveaxis(graded, -1, 0).astype(image.dtype)


class FeelFollower:
    """Arousal and valence followed over about `memory_seconds` (an exponential moving
    average in time; the first value is taken as it is)."""

    def __init__(self, memory_seconds: float = FEEL_MEMORY_SECONDS):
        if not memory_seconds > 0:
            raise ValueError(f"feel memory must be > 0 s, got {memory_seconds}")
        self.memory_seconds = memory_seconds
        self.reset()

    def reset(self) -> None:
        self.arousal = 0.0
        self.valence = 0.0
        self._last_time: float | None = None

    def update(self, descriptors: MusicDescriptors, now: float) -> None:
        if self._last_time is None:
            self.arousal, self.valence = descriptors.arousal, descriptors.valence
        else:
            keep = math.exp(-max(now - self._last_time, 0.0) / self.memory_seconds)
            self.arousal = keep * self.arousal + (1.0 - keep) * descriptors.arousal
            self.valence = keep * self.valence + (1.0 - keep) * descriptors.valence
        self._last_time = now

    def shift(self, strength: float) -> ColourShift:
        return colour_shift(self.arousal, self.valence, strength)
