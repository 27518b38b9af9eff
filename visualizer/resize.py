"""Resizing images: the one home, with the filter named at every call.

Two layouts, one function each:

- `resize_rgb8(pixels, size, Filter.X)`: uint8 [H, W, C] pictures and photos, by Pillow's
  filters (antialiased when shrinking). The photo reader uses `Filter.LANCZOS`; the app's
  and render's plain enlargement and the learned upscaler's baseline use `Filter.BICUBIC`.
- `resize_planes(images, size)`: float [..., H, W] model images (eval feeding a judge whose
  input size differs), linear interpolation through the corner pixels (scipy.ndimage.zoom,
  spline order 1, no antialiasing).

`centre_crop(pixels, aspect)` cuts a picture to another shape as a screen it fills cuts it
(the app's canvas filling a wide screen, its recordings, saved pictures and NDI, `musicscape
render --size WxH`); `crop_size(aspect, short_side)` is the size such a picture is made at.

Torch's `F.interpolate` inside training (GPU augmentation, the judge's input, the
upscaler's base and its degradation) stays where it is: it runs on tensors on the device,
and each call says why. No torch here.
"""

from __future__ import annotations

from enum import Enum

import numpy as np

MAX_CROP_ASPECT = 4.0  # a crop is at most this many times wider than high, or higher than wide


class Filter(Enum):
    """A Pillow resampling filter, by the name `PIL.Image.Resampling` gives it."""

    BICUBIC = "BICUBIC"  # cubic convolution, a = -0.5; 4 taps when enlarging
    LANCZOS = "LANCZOS"  # Lanczos-3; 6 taps when enlarging, the sharpest when shrinking


def resize_rgb8(pixels: np.ndarray, size: int, method: Filter) -> np.ndarray:
    """uint8 [H, W, C] -> uint8 [size, size, C] by Pillow's filter `method` (antialiased when
    shrinking); the same array when it already has that size."""
    from PIL import Image

    if pixels.shape[:2] == (size, size):
        return pixels
    resample = Image.Resampling[method.value]
    return np.asarray(Image.fromarray(pixels).resize((size, size), resample))


def resize_planes(images: np.ndarray, size: int) -> np.ndarray:
    """float [..., H, W] -> float32 [..., size, size]: linear interpolation through the
    corner pixels (scipy.ndimage.zoom, order 1; no antialiasing); the same array when it
    already has that size."""
    import scipy.ndimage

    height, width = images.shape[-2:]
    if (height, width) == (size, size):
        return images
    zoom = (1.0,) * (images.ndim - 2) + (size / height, size / width)
    return scipy.ndimage.zoom(images, zoom, order=1).astype(np.float32)


def centre_crop(pixels: np.ndarray, aspect: float) -> np.ndarray:
    """The middle of `pixels` ([H, W, ...]) that is `aspect` times as wide as high, as a
    screen that the picture fills cuts off its overhang (a view; the whole picture when it
    has that shape)."""
    height, width = pixels.shape[:2]
    if width > height * aspect:
        kept = max(1, round(height * aspect))
        left = (width - kept) // 2
        return pixels[:, left : left + kept]
    kept = max(1, round(width / aspect))
    top = (height - kept) // 2
    return pixels[top : top + kept]


def crop_size(aspect: float, short_side: int) -> tuple[int, int]:
    """The width and height of a picture `aspect` times as wide as high: its shorter side
    `short_side`, the longer in proportion (both even, as 4:2:0 and 4:2:2 video needs; the
    shape kept within MAX_CROP_ASPECT)."""
    aspect = min(max(aspect, 1.0 / MAX_CROP_ASPECT), MAX_CROP_ASPECT)
    long_side = 2 * round(short_side * max(aspect, 1.0 / aspect) / 2)
    return (long_side, short_side) if aspect >= 1.0 else (short_side, long_side)
