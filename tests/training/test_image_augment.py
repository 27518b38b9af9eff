"""DiffAugment on D's inputs: known shifts, known squares, gradients that flow through."""

import numpy as np
import pytest
import torch

from training.config import GanStageConfig
from training.image_augment import colour_jitter, cut_out, diff_augment, translate


def ramp_images(count: int, size: int) -> torch.Tensor:
    """[count, 3, size, size] with every pixel distinct and none 0."""
    values = torch.arange(1, count * 3 * size * size + 1, dtype=torch.float32)
    return values.reshape(count, 3, size, size)


def test_translation_moves_each_image_by_its_drawn_shift_and_fills_with_zero():
    images = ramp_images(5, 16)
    moved = translate(images, np.random.default_rng(3))
    again = np.random.default_rng(3)
    shift_y, shift_x = again.integers(-2, 3, 5), again.integers(-2, 3, 5)
    assert np.any(shift_y != 0) and np.any(shift_x != 0)
    for b in range(5):
        expected = torch.zeros(3, 16, 16)
        for y in range(16):
            for x in range(16):
                source_y, source_x = y + shift_y[b], x + shift_x[b]
                if 0 <= source_y < 16 and 0 <= source_x < 16:
                    expected[:, y, x] = images[b, :, source_y, source_x]
        torch.testing.assert_close(moved[b], expected, rtol=0, atol=0)


def test_cutout_zeroes_one_square_of_half_the_size_and_keeps_the_rest():
    images = ramp_images(6, 16)
    cut = cut_out(images, np.random.default_rng(4))
    again = np.random.default_rng(4)
    centre_y, centre_x = again.integers(0, 17, 6), again.integers(0, 17, 6)
    for b in range(6):
        rows = slice(max(centre_y[b] - 4, 0), min(centre_y[b] + 4, 16))
        cols = slice(max(centre_x[b] - 4, 0), min(centre_x[b] + 4, 16))
        expected = images[b].clone()
        expected[:, rows, cols] = 0.0
        torch.testing.assert_close(cut[b], expected, rtol=0, atol=0)
    # a centre far from the border cuts exactly 8 x 8 pixels per channel
    inner = [b for b in range(6) if 4 <= centre_y[b] <= 12 and 4 <= centre_x[b] <= 12]
    assert inner and all(int((cut[b] == 0).sum()) == 3 * 64 for b in inner)


def test_colour_jitter_of_a_flat_grey_image_only_shifts_its_brightness():
    flat = torch.full((4, 3, 8, 8), 0.2)
    jittered = colour_jitter(flat, np.random.default_rng(5))
    brightness = np.random.default_rng(5).random(4) - 0.5
    for b in range(4):
        torch.testing.assert_close(
            jittered[b], torch.full((3, 8, 8), 0.2 + float(brightness[b])), rtol=0, atol=1e-6
        )


def test_gradient_flows_through_the_kept_pixels_only():
    fake = torch.ones(2, 3, 16, 16, requires_grad=True)
    augmented = diff_augment(fake, ("translation", "cutout"), np.random.default_rng(6))
    augmented.sum().backward()
    gradient = fake.grad
    assert set(torch.unique(gradient).tolist()) <= {0.0, 1.0}
    # each output pixel reads one input pixel: what is seen gets gradient, what is not none
    assert 0 < int(gradient.sum()) == int(augmented.detach().sum())


def test_no_policy_returns_the_images_and_the_same_draws_repeat():
    images = ramp_images(3, 16)
    assert diff_augment(images, (), np.random.default_rng(0)) is images
    policies = ("color", "translation", "cutout")
    first = diff_augment(images, policies, np.random.default_rng(7))
    second = diff_augment(images, policies, np.random.default_rng(7))
    torch.testing.assert_close(first, second, rtol=0, atol=0)
    assert not torch.equal(first, images)


def test_unknown_policies_are_refused_by_the_function_and_the_config():
    with pytest.raises(ValueError, match=r"unknown augment policies \['flip'\]"):
        diff_augment(ramp_images(1, 8), ("flip",), np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"gan.diff_augment: unknown policies \['flip'\]"):
        GanStageConfig(diff_augment=("flip",))
