"""Spectral regularisation of the generator (Durall et al., CVPR 2020, "Watch your
up-convolution"): up-sampling layers leave generated pictures with a power spectrum unlike
photos' at the highest frequencies (the checkerboard is its peak at the diagonal period 2).
G is pulled to draw the photos' spectrum: the L1 distance between the azimuthal means of
the batch's mean log luma power spectrum and the training photos'.

Every radius weighs the same in the profile, so the few frequencies at the corner of the
spectrum (where the checkerboard lies) count as much as the many low ones.

The streak penalty works on the same luma in the picture plane: fine detail (second
differences) that lines up down the columns or along the rows, against the photos' own.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

LUMA = (0.299, 0.587, 0.114)
EPSILON = 1e-8


def radius_index(size: int) -> torch.Tensor:
    """[size, size] the rounded distance of each FFT bin from zero frequency (0 .. ~size/sqrt2)."""
    frequencies = torch.fft.fftfreq(size) * size  # 0, 1, ..., -1
    fy, fx = torch.meshgrid(frequencies, frequencies, indexing="ij")
    return torch.sqrt(fy**2 + fx**2).round().long()


def azimuthal_mean(values: torch.Tensor) -> torch.Tensor:
    """[S, S] values per FFT bin -> [R] their mean per rounded radius."""
    radius = radius_index(values.shape[-1]).to(values.device).flatten()
    count = torch.bincount(radius).to(values)  # [R]
    return torch.zeros_like(count).index_add_(0, radius, values.flatten()) / count


def luma_of(images: torch.Tensor) -> torch.Tensor:
    """images [B, 3, H, W] RGB -> [B, H, W] luma (Rec. 601 weights)."""
    return torch.einsum("c,bchw->bhw", images.new_tensor(LUMA), images)


def luma_power_sum(images: torch.Tensor) -> torch.Tensor:
    """images [B, 3, S, S] -> [S, S] the sum over the batch of |FFT(luma)|^2, each picture's
    mean luma removed first."""
    luma = luma_of(images)  # [B, S, S]
    luma = luma - luma.mean(dim=(1, 2), keepdim=True)
    return (torch.fft.fft2(luma).abs() ** 2).sum(dim=0)


def log_spectrum_profile(images: torch.Tensor) -> torch.Tensor:
    """images [B, 3, S, S] (any scale) -> [R] the azimuthal mean, per rounded radius, of
    log(mean over the batch of |FFT(luma)|^2)."""
    power = luma_power_sum(images) / images.shape[0]  # [S, S]
    return azimuthal_mean(torch.log(power + EPSILON))  # [R]


def photo_batches(pixels: np.ndarray, batch: int) -> Iterator[torch.Tensor]:
    """uint8 photos [N, S, S, 3] -> float64 batches [<= batch, 3, S, S], still in [0, 255]."""
    for start in range(0, len(pixels), batch):
        yield torch.from_numpy(pixels[start : start + batch]).permute(0, 3, 1, 2).double()


def photo_spectrum_profile(pixels: np.ndarray, batch: int = 512) -> torch.Tensor:
    """uint8 photos [N, S, S, 3] -> [R], the profile of all of them (power averaged over all
    N, in [-1, 1] units as G draws)."""
    if not len(pixels):
        raise ValueError("no photos to measure a spectrum on")
    power = sum(
        luma_power_sum(photos) for photos in photo_batches(pixels, batch)
    )  # [S, S]; the luma's offset from [0, 255] to [-1, 1] is removed with its mean
    return azimuthal_mean(torch.log(power / 127.5**2 / len(pixels) + EPSILON)).float()


def luma_second_differences(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """images [B, 3, H, W] -> the luma's second difference along each row [B, H, W-2] (the
    detail across the columns) and down each column [B, H-2, W]."""
    luma = luma_of(images)  # [B, H, W]
    across = luma[:, :, 2:] - 2.0 * luma[:, :, 1:-1] + luma[:, :, :-2]
    down = luma[:, 2:, :] - 2.0 * luma[:, 1:-1, :] + luma[:, :-2, :]
    return across, down


def axis_streak_power(images: torch.Tensor) -> torch.Tensor:
    """images [B, 3, H, W] -> [2]: the mean power of the luma's second difference across
    each row averaged down each column (vertical streaks) and of the one down each column
    averaged along each row (horizontal streaks): the numerators of
    `visualizer.metrics.streak_ratios`, over the pictures' own scale rather than their detail,
    so that drawing more grain does not lower them."""
    across, down = luma_second_differences(images)  # [B, H, W-2], [B, H-2, W]
    vertical = across.mean(dim=1).square().mean()  # column profiles [B, W-2]
    horizontal = down.mean(dim=2).square().mean()  # row profiles [B, H-2]
    return torch.stack([vertical, horizontal])


def photo_streak_power(pixels: np.ndarray, batch: int = 512) -> torch.Tensor:
    """uint8 photos [N, S, S, 3] -> [2], `axis_streak_power` of all of them in [-1, 1] units
    as G draws."""
    if not len(pixels):
        raise ValueError("no photos to measure streaks on")
    total = sum(
        axis_streak_power(photos / 127.5) * len(photos) for photos in photo_batches(pixels, batch)
    )  # [2]; second differences remove the offset to [-1, 1]
    if not bool((total > 0).all()):
        raise ValueError("the photos have no fine detail along one axis to measure streaks against")
    return (total / len(pixels)).float()


def streak_penalty(fake: torch.Tensor, photo_streaks: torch.Tensor) -> torch.Tensor:
    """How far the batch's vertical and horizontal streak power rise above the photos' [2],
    each as a fraction of the photos': sum of relu(fake / photos - 1). 0 for a batch that
    streaks no more than photos do."""
    return torch.relu(axis_streak_power(fake) / photo_streaks - 1.0).sum()


def spectrum_loss(fake: torch.Tensor, photo_profile: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference between the batch's profile and the photos' [R], over every
    radius but 0 (each picture's mean is removed, so zero frequency holds no power)."""
    return (log_spectrum_profile(fake)[1:] - photo_profile[1:]).abs().mean()
