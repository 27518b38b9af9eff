"""The seam between the generator's picture and the picture people see.

`to_output_size` turns the generator's RGB image (uint8 [S, S, 3]) into the output size
(uint8 [N, N, 3]); `musicscape render` and the app's frame worker call it for every frame.
Today it is a bicubic resize (Pillow); a learned upscaler (an ONNX model) replaces the body
of this one function, and everything downstream stays as it is.
"""

from __future__ import annotations

import numpy as np
from PIL import Image


def to_output_size(rgb: np.ndarray, size: int) -> np.ndarray:
    """uint8 [S, S, 3] -> uint8 [size, size, 3] (the same array when S == size)."""
    if size < 1:
        raise ValueError(f"output size must be at least 1 pixel, got {size}")
    if rgb.shape[0] == size and rgb.shape[1] == size:
        return rgb
    resized = Image.fromarray(rgb).resize((size, size), Image.Resampling.BICUBIC)
    return np.asarray(resized)
