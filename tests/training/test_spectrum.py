"""Spectral regularisation: known spectra (a checkerboard, a flat picture), the photos'
profile against the batch profile, and a loss that G can follow."""

import math

import numpy as np
import pytest
import torch

from training.spectrum import (
    EPSILON,
    axis_streak_power,
    azimuthal_mean,
    log_spectrum_profile,
    luma_second_differences,
    photo_spectrum_profile,
    photo_streak_power,
    radius_index,
    spectrum_loss,
    streak_penalty,
)
from visualizer.metrics import streak_ratios


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


def test_streak_power_is_the_numerator_of_evals_streak_ratios():
    pictures = torch.rand(
        6, 3, 20, 24, generator=torch.Generator().manual_seed(0), dtype=torch.float64
    )
    across, down = luma_second_differences(pictures)
    detail = torch.stack([across.square().mean(), down.square().mean()])
    ratios = axis_streak_power(pictures) / detail
    assert ratios.tolist() == pytest.approx(streak_ratios(pictures.numpy()), rel=1e-12)
    # one row repeated down a picture: all its detail is a vertical streak, none horizontal
    row = torch.rand(1, 3, 1, 16, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    striped = row.expand(2, 3, 12, 16)
    power = axis_streak_power(striped)
    assert float(power[0]) == pytest.approx(
        float(luma_second_differences(striped)[0].square().mean())
    )
    assert float(power[1]) == 0.0


def test_the_photos_streak_power_is_the_batch_power_in_gs_units_whatever_the_batching():
    pixels = np.random.default_rng(2).integers(0, 256, (7, 16, 16, 3), dtype=np.uint8)
    as_drawn = torch.from_numpy(pixels).permute(0, 3, 1, 2).double() / 127.5 - 1.0
    expected = axis_streak_power(as_drawn)
    assert photo_streak_power(pixels).tolist() == pytest.approx(expected.tolist(), rel=1e-6)
    assert photo_streak_power(pixels, batch=3).tolist() == pytest.approx(
        expected.tolist(), rel=1e-6
    )
    with pytest.raises(ValueError, match="no photos"):
        photo_streak_power(pixels[:0])
    # flat photos (no detail) would make every batch's penalty infinite
    with pytest.raises(ValueError, match="no fine detail"):
        photo_streak_power(np.full((2, 8, 8, 3), 90, dtype=np.uint8))


def test_the_streak_penalty_counts_only_what_rises_above_the_photos():
    photos = torch.rand(8, 3, 16, 16, generator=torch.Generator().manual_seed(3)) * 2 - 1
    reference = axis_streak_power(photos)
    assert float(streak_penalty(photos, reference)) == pytest.approx(0.0, abs=1e-6)
    # twice the contrast: four times the power on both axes, 3 + 3 above the photos
    assert float(streak_penalty(2 * photos, reference)) == pytest.approx(6.0, rel=1e-5)
    # half the contrast streaks less than the photos: no penalty
    assert float(streak_penalty(0.5 * photos, reference)) == 0.0
    # a vertical stripe pattern added to every picture: following the penalty takes the
    # stripes out and leaves the horizontal figure where the photos have it
    stripes = 0.5 * torch.randn(1, 1, 1, 16, generator=torch.Generator().manual_seed(4))
    stripes = stripes.expand(1, 3, 16, 16).clone().requires_grad_()
    before = axis_streak_power(photos + stripes.detach())
    assert float(before[0]) > 2 * float(reference[0])
    optimiser = torch.optim.Adam([stripes], lr=0.02)
    for _ in range(200):
        optimiser.zero_grad()
        streak_penalty(photos + stripes, reference).backward()
        optimiser.step()
    after = axis_streak_power(photos + stripes.detach())
    assert float(after[0]) <= 1.05 * float(reference[0])
    assert float(after[1]) == pytest.approx(float(reference[1]), rel=0.05)
