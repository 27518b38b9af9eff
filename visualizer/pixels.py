"""Pixels between uint8 (0..255) and the models' range [-1, 1]: the one conversion, rounded.

0 <-> -1 and 255 <-> +1; a model's value is rounded to the nearest level (clipped outside
[-1, 1]), so every uint8 level survives the round trip unchanged.
"""

from __future__ import annotations

import numpy as np


def to_unit(pixels: np.ndarray) -> np.ndarray:
    """uint8 levels -> float32 in [-1, 1], same shape."""
    return np.asarray(pixels, dtype=np.float32) * np.float32(2.0 / 255.0) - np.float32(1.0)


def to_uint8(values: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Values in [-1, 1] -> uint8 levels, same shape, into `out` when given."""
    scaled = (np.asarray(values, dtype=np.float32) + np.float32(1.0)) * np.float32(127.5)
    np.clip(scaled, 0.0, 255.0, out=scaled)
    np.rint(scaled, out=scaled)
    if out is None:
        return scaled.astype(np.uint8)
    np.copyto(out, scaled, casting="unsafe")
    return out
