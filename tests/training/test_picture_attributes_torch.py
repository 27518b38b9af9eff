"""The torch twin of the picture attributes: parity with numpy, known answers, gradients."""

import numpy as np
import pytest
import torch

from training.picture_attributes import attributes_in_z, measure_attributes, srgb_to_lab
from visualizer import picture_attributes as reference

MID_GREY_LIGHTNESS = 53.3890  # L* of sRGB (0.5, 0.5, 0.5)


def to_unit_range(images: torch.Tensor) -> np.ndarray:
    """Generator images [B, 3, H, W] in [-1, 1] -> numpy [B, H, W, 3] in [0, 1]."""
    return ((images.double().numpy() + 1.0) / 2.0).transpose(0, 2, 3, 1)


def test_lab_matches_numpy_on_the_whole_cube_in_float64():
    rgb = torch.rand(4000, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    rgb[:8] = torch.tensor([0.0, 1.0, 0.04045, 0.0031308, 0.5, 0.01, 0.2, 0.99])[:, None]
    np.testing.assert_allclose(
        srgb_to_lab(rgb).numpy(), reference.srgb_to_lab(rgb.numpy()), rtol=0, atol=1e-9
    )


@pytest.mark.parametrize(("dtype", "tolerance"), [(torch.float64, 1e-5), (torch.float32, 2e-3)])
def test_attributes_match_numpy(dtype, tolerance):
    generator = torch.Generator().manual_seed(1)
    images = torch.rand(6, 3, 16, 16, generator=generator, dtype=dtype) * 2 - 1
    images[0] = 0.0  # a uniform grey: chroma and contrast 0, where sqrt needs care
    images[1, :, :, :8] = -1.0  # black and white halves
    images[1, :, :, 8:] = 1.0
    got = measure_attributes(images).double().numpy()
    expected = reference.measure_attributes(to_unit_range(images))
    np.testing.assert_allclose(got, expected, rtol=0, atol=tolerance)


def test_known_answers():
    grey = torch.zeros(1, 3, 8, 8, dtype=torch.float64)  # 0 in [-1, 1] is sRGB 0.5
    lightness, chroma, yellowness, contrast = measure_attributes(grey)[0].tolist()
    assert lightness == pytest.approx(MID_GREY_LIGHTNESS, abs=1e-3)
    assert chroma == pytest.approx(0.0, abs=1e-4) and yellowness == pytest.approx(0.0, abs=1e-4)
    assert contrast == pytest.approx(0.0, abs=1e-5)
    halves = -torch.ones(1, 3, 8, 8, dtype=torch.float64)
    halves[..., 4:] = 1.0
    lightness, chroma, _, contrast = measure_attributes(halves)[0].tolist()
    assert lightness == pytest.approx(50.0, abs=1e-3)
    assert contrast == pytest.approx(50.0, abs=1e-3)


def test_gradients_are_finite_also_for_flat_and_saturated_images():
    images = torch.zeros(4, 3, 8, 8)
    images[1] = -1.0  # black: the linear branch and the low f branch
    images[2] = 1.0  # white, at the clamp
    images[3, 0] = 0.7  # reddish
    images.requires_grad_(True)
    z = attributes_in_z(images, torch.tensor([50.0, 16, 0, 20]), torch.tensor([11.0, 11, 14, 6]))
    z.pow(2).sum().backward()
    assert torch.isfinite(images.grad).all()
    assert images.grad[3].abs().sum() > 0


def test_z_units_use_the_stats():
    images = torch.zeros(2, 3, 4, 4)
    mean, spread = torch.tensor([50.0, 0, 0, 0]), torch.tensor([10.0, 1, 1, 1])
    z = attributes_in_z(images, mean, spread)
    assert z[0, 0].item() == pytest.approx((MID_GREY_LIGHTNESS - 50.0) / 10.0, abs=1e-3)
