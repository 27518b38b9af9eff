"""Light and colour of a picture, measured the same way on photos and generated scenes.

The generator can be conditioned on these (issue 15 §3): each training photo's mean CIELAB
L* ("lightness"), mean chroma C* = sqrt(a*^2 + b*^2) ("chroma"), mean b* ("yellowness")
and the standard deviation of L* within the picture ("contrast"). The generator is asked
for them in z-units: (raw - the training photos' mean) / their spread, as `AttributeStats`
holds them (written into generator.onnx's metadata as `picture_attributes`). When no feel
is asked for, `category_request` gives the typical light of the scored category.

The sRGB (D65) <-> CIELAB conversion lives here (visualizer/feel.py grades with it);
training/picture_attributes.py is the differentiable torch twin of `measure_attributes`.
numpy only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

ATTRIBUTE_NAMES = ("lightness", "chroma", "yellowness", "contrast")
# Whole-range bounds of each raw attribute (CIELAB of sRGB pictures), for range checks.
ATTRIBUTE_LIMITS = {
    "lightness": (0.0, 100.0),
    "chroma": (0.0, 200.0),
    "yellowness": (-200.0, 200.0),
    "contrast": (0.0, 100.0),
}
MAX_ATTRIBUTE_SPREAD = 200.0

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


def measure_attributes(images: np.ndarray) -> np.ndarray:
    """float images [N, H, W, 3] in [0, 1] -> [N, 4] raw attributes (ATTRIBUTE_NAMES order:
    mean L*, mean C*, mean b*, standard deviation of L*)."""
    images = np.asarray(images, dtype=np.float64)
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"images must be [N, H, W, 3], got shape {images.shape}")
    lab = srgb_to_lab(np.clip(images, 0.0, 1.0))
    lightness, a, b = lab[..., 0], lab[..., 1], lab[..., 2]
    return np.stack(
        [
            lightness.mean(axis=(1, 2)),
            np.hypot(a, b).mean(axis=(1, 2)),
            b.mean(axis=(1, 2)),
            lightness.std(axis=(1, 2)),
        ],
        axis=1,
    )


def image_attributes(images: np.ndarray) -> np.ndarray:
    """Generator images [N, 3, S, S] in [-1, 1] -> [N, 4] raw attributes."""
    images = np.asarray(images, dtype=np.float64)
    return measure_attributes((images.transpose(0, 2, 3, 1) + 1.0) / 2.0)


def _vector(name: str, values: Any, length: int) -> tuple[float, ...]:
    try:
        row = tuple(float(x) for x in values)
    except (TypeError, ValueError) as error:
        raise ValueError(f"picture_attributes.{name} must be {length} numbers") from error
    if len(row) != length or not all(math.isfinite(x) for x in row):
        raise ValueError(f"picture_attributes.{name} must be {length} finite numbers, got {row}")
    return row


@dataclass(frozen=True)
class AttributeStats:
    """The training photos' attributes: mean and spread (standard deviation) per attribute,
    raw units, and each category's mean [C][4]; z = (raw - mean) / spread."""

    names: tuple[str, ...]
    mean: tuple[float, ...]
    spread: tuple[float, ...]
    category_mean: tuple[tuple[float, ...], ...]

    def __post_init__(self) -> None:
        names = tuple(self.names)
        if names != ATTRIBUTE_NAMES:
            raise ValueError(
                f"picture_attributes.names must be {list(ATTRIBUTE_NAMES)}, got {list(names)}"
            )
        count = len(names)
        mean = _vector("mean", self.mean, count)
        spread = _vector("spread", self.spread, count)
        for name, value, low_high in zip(names, mean, ATTRIBUTE_LIMITS.values(), strict=True):
            if not low_high[0] <= value <= low_high[1]:
                raise ValueError(
                    f"picture_attributes.mean of {name} must be in "
                    f"[{low_high[0]:g}, {low_high[1]:g}], got {value}"
                )
        if not all(0.0 < value <= MAX_ATTRIBUTE_SPREAD for value in spread):
            raise ValueError(
                f"picture_attributes.spread must be in (0, {MAX_ATTRIBUTE_SPREAD:g}], got {spread}"
            )
        rows = tuple(_vector("category_mean", row, count) for row in self.category_mean)
        if len(rows) < 2:
            raise ValueError("picture_attributes.category_mean needs one row per category (>= 2)")
        for row in rows:
            for name, value, low_high in zip(names, row, ATTRIBUTE_LIMITS.values(), strict=True):
                if not low_high[0] <= value <= low_high[1]:
                    raise ValueError(
                        f"picture_attributes.category_mean of {name} must be in "
                        f"[{low_high[0]:g}, {low_high[1]:g}], got {value}"
                    )
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "spread", spread)
        object.__setattr__(self, "category_mean", rows)

    @classmethod
    def from_measurements(cls, attributes: np.ndarray, labels: np.ndarray, n_categories: int):
        """From raw attributes [N, 4] of photos and their labels [N]."""
        attributes = np.asarray(attributes, dtype=np.float64)
        labels = np.asarray(labels)
        return cls(
            names=ATTRIBUTE_NAMES,
            mean=tuple(attributes.mean(axis=0)),
            spread=tuple(attributes.std(axis=0)),
            category_mean=tuple(
                tuple(attributes[labels == c].mean(axis=0)) for c in range(n_categories)
            ),
        )

    def to_z(self, raw: np.ndarray) -> np.ndarray:
        """[..., 4] raw -> z-units."""
        return (np.asarray(raw, dtype=np.float64) - np.asarray(self.mean)) / np.asarray(self.spread)

    def to_raw(self, z: np.ndarray) -> np.ndarray:
        """[..., 4] z-units -> raw."""
        return np.asarray(z, dtype=np.float64) * np.asarray(self.spread) + np.asarray(self.mean)

    def to_dict(self) -> dict[str, Any]:
        return {
            "names": list(self.names),
            "mean": list(self.mean),
            "spread": list(self.spread),
            "category_mean": [list(row) for row in self.category_mean],
        }

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> AttributeStats:
        """Raises ValueError naming the key for anything missing or out of range."""
        if not isinstance(values, dict):
            raise ValueError("picture_attributes must be a JSON object")
        missing = [key for key in ("names", "mean", "spread", "category_mean") if key not in values]
        if missing:
            raise ValueError(f"picture_attributes lacks {', '.join(missing)}")
        names, rows = values["names"], values["category_mean"]
        if not isinstance(names, list | tuple) or not all(isinstance(n, str) for n in names):
            raise ValueError("picture_attributes.names must be a list of names")
        if not isinstance(rows, list | tuple):
            raise ValueError("picture_attributes.category_mean must be rows of numbers")
        return cls(
            names=tuple(names),
            mean=values["mean"],
            spread=values["spread"],
            category_mean=tuple(rows),
        )


def category_request(category_weights: np.ndarray, stats: AttributeStats) -> np.ndarray:
    """The attributes to ask for when no feel is asked: the typical light and colour of the
    scored category. `category_weights` [C] (or [B, C]; e.g. softmax of the category scores)
    -> [4] (or [B, 4]) z-units = weights @ z(category_mean)."""
    weights = np.asarray(category_weights, dtype=np.float64)
    if weights.shape[-1] != len(stats.category_mean):
        raise ValueError(
            f"category_weights has {weights.shape[-1]} entries, the stats "
            f"{len(stats.category_mean)} categories"
        )
    return weights @ stats.to_z(np.asarray(stats.category_mean))


def feature_request(
    features: np.ndarray, prototypes: np.ndarray, temperature: float, stats: AttributeStats
) -> np.ndarray:
    """The attributes to ask for music features [D] (or [B, D]) when no feel is asked:
    `category_request` weighted by softmax(features . prototypes [C, D] / temperature), the
    weights of the generator's soft category pull; -> [4] (or [B, 4]) z-units."""
    scores = np.asarray(features, np.float64) @ np.asarray(prototypes, np.float64).T
    logits = scores / temperature
    weights = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return category_request(weights / weights.sum(axis=-1, keepdims=True), stats)
