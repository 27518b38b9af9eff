"""The differentiable torch twin of visualizer.picture_attributes.measure_attributes.

The GAN stage asks G for the light and colour of each batch's real photo and penalises the
difference with what G drew, so the measurement must carry gradients: the same sRGB ->
CIELAB formula, with the branches that numpy takes by `where` made safe for gradients (the
cube root and square roots see values kept away from zero in the branch not taken; the
chroma and the standard deviation add 1e-12 under their square roots, a difference of at
most 1e-6 in raw units).
"""

from __future__ import annotations

import torch

from visualizer.picture_attributes import _EPSILON, _KAPPA, _RGB_TO_XYZ, _WHITE

_TINY = 1e-12


def srgb_to_lab(rgb: torch.Tensor) -> torch.Tensor:
    """[..., 3] sRGB in [0, 1] -> [..., 3] CIELAB (L* 0-100), differentiable."""
    matrix = torch.as_tensor(_RGB_TO_XYZ / _WHITE[:, None], dtype=rgb.dtype, device=rgb.device)
    low = rgb / 12.92
    high = ((rgb.clamp(min=0.04045) + 0.055) / 1.055) ** 2.4
    linear = torch.where(rgb <= 0.04045, low, high)
    xyz = linear @ matrix.T  # [..., 3], white = 1
    cube_root = xyz.clamp(min=_EPSILON) ** (1.0 / 3.0)
    f = torch.where(xyz > _EPSILON, cube_root, (_KAPPA * xyz + 16.0) / 116.0)
    return torch.stack(
        [
            116.0 * f[..., 1] - 16.0,
            500.0 * (f[..., 0] - f[..., 1]),
            200.0 * (f[..., 1] - f[..., 2]),
        ],
        dim=-1,
    )


def measure_attributes(images: torch.Tensor) -> torch.Tensor:
    """Generator images [B, 3, H, W] in [-1, 1] -> [B, 4] raw attributes (mean L*, mean C*,
    mean b*, standard deviation of L*; ATTRIBUTE_NAMES order), differentiable."""
    rgb = ((images.clamp(-1.0, 1.0) + 1.0) / 2.0).permute(0, 2, 3, 1)  # [B, H, W, 3]
    lab = srgb_to_lab(rgb)
    lightness, a, b = lab[..., 0], lab[..., 1], lab[..., 2]  # [B, H, W] each
    mean_lightness = lightness.mean(dim=(1, 2))
    chroma = torch.sqrt(a * a + b * b + _TINY).mean(dim=(1, 2))
    variance = ((lightness - mean_lightness[:, None, None]) ** 2).mean(dim=(1, 2))
    return torch.stack(
        [mean_lightness, chroma, b.mean(dim=(1, 2)), torch.sqrt(variance + _TINY)], dim=1
    )


def attributes_in_z(images: torch.Tensor, mean: torch.Tensor, spread: torch.Tensor):
    """[B, 4] attributes of generator images in z-units of the photos' `mean` and `spread`."""
    return (measure_attributes(images) - mean) / spread
