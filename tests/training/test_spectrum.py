"""Spectral regularisation: known spectra (a checkerboard, a flat picture), the photos'
profile against the batch profile, and a loss that G can follow."""

import math

import numpy as np
import torch

from training.spectrum import (
    EPSILON,
    azimuthal_mean,
    log_spectrum_profile,
    photo_spectrum_profile,
    radius_index,
    spectrum_loss,
)


def test_radius_index_is_the_rounded_distance_from_zero_frequency():
    expected = torch.tensor([[0, 1, 2, 1], [1, 1, 2, 1], [2, 2, 3, 2], [1, 1, 2, 1]])
    assert torch.equal(radius_index(4), expected)


def test_azimuthal_mean_averages_the_bins_of_each_radius():
    values = torch.arange(16, dtype=torch.float64).reshape(4, 4)
    radius = radius_index(4)
    expected = [float(values[radius == r].mean()) for r in range(4)]
    assert azimuthal_mean(values).tolist() == expected


def test_a_checkerboard_puts_all_its_power_at_the_corner_radius():
    size = 8
    sign = (-1.0) ** (np.add.outer(np.arange(size), np.arange(size)))
    images = torch.from_numpy(np.broadcast_to(sign, (2, 3, size, size)).copy()).float()
    profile = log_spectrum_profile(images)
    corner = int(round(math.hypot(size / 2, size / 2)))  # 6
    assert len(profile) == corner + 1
    # luma = the sign pattern (weights sum to 1): |FFT|^2 at (4, 4) is (8 * 8)^2, alone at r 6
    assert float(profile[corner]) == torch.log(torch.tensor(64.0**2 + EPSILON)).item()
    assert torch.allclose(profile[:corner], torch.full((corner,), math.log(EPSILON)))


def test_the_photos_profile_is_the_batch_profile_of_the_same_photos():
    pixels = np.random.default_rng(0).integers(0, 256, (40, 16, 16, 3), dtype=np.uint8)
    images = torch.from_numpy(pixels).permute(0, 3, 1, 2).double() / 127.5 - 1.0
    from_photos = photo_spectrum_profile(pixels, batch=16)  # three batches, summed
    torch.testing.assert_close(from_photos, log_spectrum_profile(images).float())
    assert float(spectrum_loss(images.float(), from_photos)) < 1e-5


def test_the_loss_falls_when_a_blurred_picture_gets_its_fine_detail_back():
    rng = torch.Generator().manual_seed(1)
    sharp = torch.rand(16, 3, 32, 32, generator=rng) * 2 - 1
    pixels = ((sharp.permute(0, 2, 3, 1) + 1) * 127.5).round().clamp(0, 255).byte().numpy()
    target = photo_spectrum_profile(pixels)
    blurred = torch.nn.functional.avg_pool2d(sharp, 2).repeat_interleave(2, 2)
    blurred = blurred.repeat_interleave(2, 3).requires_grad_(True)
    loss = spectrum_loss(blurred, target)
    loss.backward()
    assert loss.item() > 1.0 > spectrum_loss(sharp, target).item()
    stepped = blurred.detach() - 50.0 * blurred.grad
    assert spectrum_loss(stepped, target).item() < loss.item()
