"""Differentiable augmentation of D's inputs (DiffAugment, Zhao et al., NeurIPS 2020).

With few photos (a few thousand here) D memorises them and its signal to G turns to noise:
the same random transform applied to every image D sees (real and fake, in D's step and
in G's) keeps D from memorising while G still learns the un-augmented distribution, since
the transforms are differentiable and G's gradient flows through them.

Policies (Zhao et al.'s, on images in [-1, 1], [B, 3, H, W]):
- "translation": shift by up to 1/8 of the size in x and y, the border filled with 0;
- "cutout": a square of half the size, at a random centre, set to 0;
- "color": brightness +-0.5, saturation x[0, 2], contrast x[0.5, 1.5].
The offsets come from the stage's numpy RNG, so a resumed run draws the same ones.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from training.config import AUGMENT_POLICIES

TRANSLATION_RATIO = 0.125
CUTOUT_RATIO = 0.5


def _per_image(values: np.ndarray, like: torch.Tensor) -> torch.Tensor:
    """[B] numpy values -> [B, 1, 1, 1] tensor on `like`'s device and dtype."""
    return torch.from_numpy(values).to(like)[:, None, None, None]


def colour_jitter(images: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    """Brightness, saturation and contrast, each by a random amount per image."""
    count = images.shape[0]
    images = images + _per_image(rng.random(count) - 0.5, images)
    mean = images.mean(dim=1, keepdim=True)  # [B, 1, H, W]
    images = (images - mean) * _per_image(rng.random(count) * 2.0, images) + mean
    mean = images.mean(dim=(1, 2, 3), keepdim=True)  # [B, 1, 1, 1]
    return (images - mean) * _per_image(rng.random(count) + 0.5, images) + mean


def translate(
    images: torch.Tensor, rng: np.random.Generator, ratio: float = TRANSLATION_RATIO
) -> torch.Tensor:
    """Each image shifted by whole pixels, up to `ratio` of its size each way; what moves in
    from outside is 0."""
    count, _, height, width = images.shape
    reach_y, reach_x = int(height * ratio + 0.5), int(width * ratio + 0.5)
    device = images.device
    shift_y = torch.from_numpy(rng.integers(-reach_y, reach_y + 1, count)).to(device)
    shift_x = torch.from_numpy(rng.integers(-reach_x, reach_x + 1, count)).to(device)
    index_b, index_y, index_x = torch.meshgrid(
        torch.arange(count, device=device),
        torch.arange(height, device=device),
        torch.arange(width, device=device),
        indexing="ij",
    )  # [B, H, W] each
    # Reads from the image padded by one pixel of 0: a source outside the image lands on it.
    index_y = torch.clamp(index_y + shift_y[:, None, None] + 1, 0, height + 1)
    index_x = torch.clamp(index_x + shift_x[:, None, None] + 1, 0, width + 1)
    padded = F.pad(images, [1, 1, 1, 1])  # [B, C, H + 2, W + 2]
    moved = padded.permute(0, 2, 3, 1)[index_b, index_y, index_x]  # [B, H, W, C]
    return moved.permute(0, 3, 1, 2)


def cut_out(
    images: torch.Tensor, rng: np.random.Generator, ratio: float = CUTOUT_RATIO
) -> torch.Tensor:
    """Each image with a square of `ratio` of its size set to 0, centred anywhere in it (so
    the square may be clipped by the border)."""
    count, _, height, width = images.shape
    side_y, side_x = int(height * ratio + 0.5), int(width * ratio + 0.5)
    centre_y = rng.integers(0, height + (1 - side_y % 2), count)
    centre_x = rng.integers(0, width + (1 - side_x % 2), count)
    rows = np.arange(height)[None, :]
    cols = np.arange(width)[None, :]
    inside_y = (rows >= (centre_y - side_y // 2)[:, None]) & (
        rows < (centre_y - side_y // 2 + side_y)[:, None]
    )  # [B, H]
    inside_x = (cols >= (centre_x - side_x // 2)[:, None]) & (
        cols < (centre_x - side_x // 2 + side_x)[:, None]
    )  # [B, W]
    keep = ~(inside_y[:, :, None] & inside_x[:, None, :])  # [B, H, W]
    return images * torch.from_numpy(keep).to(images)[:, None]


def diff_augment(
    images: torch.Tensor, policies: tuple[str, ...], rng: np.random.Generator
) -> torch.Tensor:
    """`images` [B, 3, H, W] through each policy in AUGMENT_POLICIES order that `policies`
    names; () returns them unchanged."""
    unknown = set(policies) - set(AUGMENT_POLICIES)
    if unknown:
        raise ValueError(f"unknown augment policies {sorted(unknown)}; known: {AUGMENT_POLICIES}")
    if "color" in policies:
        images = colour_jitter(images, rng)
    if "translation" in policies:
        images = translate(images, rng)
    if "cutout" in policies:
        images = cut_out(images, rng)
    return images
