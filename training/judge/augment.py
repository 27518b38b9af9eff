"""The judge's training augmentation, made on the photos' device: random resized crop,
mirror, blur and colour jitter in one pass, and CutMix."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from training.judge.config import JudgeConfig


def augment(batch: torch.Tensor, config: JudgeConfig, generator: torch.Generator) -> torch.Tensor:
    """Random resized crop + mirror (one bilinear resampling) and colour jitter.

    batch: [B,3,store,store] in [-1,1] -> [B,3,image_size,image_size] in [-1,1], on the
    batch's device. The random draws come from the CPU `generator` on any device, so a run
    on a GPU draws the same crops, mirrors and jitter as one on the CPU. Its resampling
    (grid_sample, and F.interpolate for the blur) is torch's: it runs on the batch's device.
    """
    count, device = batch.shape[0], batch.device

    def uniform(low: float, high: float) -> torch.Tensor:
        return (low + (high - low) * torch.rand(count, generator=generator)).to(device)

    area = uniform(config.crop_min_area, 1.0)
    aspect = torch.exp(uniform(math.log(3 / 4), math.log(4 / 3)))
    width = torch.sqrt(area * aspect).clamp(max=1.0)  # share of the photo's width
    height = torch.sqrt(area / aspect).clamp(max=1.0)
    centre_x = (1.0 - width) * uniform(-1.0, 1.0)
    centre_y = (1.0 - height) * uniform(-1.0, 1.0)
    mirror = torch.where(torch.rand(count, generator=generator).to(device) < 0.5, -1.0, 1.0)
    theta = torch.zeros(count, 2, 3, device=device)
    theta[:, 0, 0] = width * mirror
    theta[:, 0, 2] = centre_x
    theta[:, 1, 1] = height
    theta[:, 1, 2] = centre_y
    size = config.image_size
    grid = F.affine_grid(theta, [count, 3, size, size], align_corners=False)
    out = F.grid_sample(
        batch, grid, mode="bilinear", padding_mode="reflection", align_corners=False
    )

    if config.blur_probability > 0:
        factor = float(1.5 + 1.5 * torch.rand(1, generator=generator))
        small = max(2, round(size / factor))
        soft = F.interpolate(out, size=(small, small), mode="bilinear", antialias=True)
        soft = F.interpolate(soft, size=(size, size), mode="bilinear", align_corners=False)
        chosen = torch.rand(count, generator=generator).to(device) < config.blur_probability
        out = torch.where(chosen.view(-1, 1, 1, 1), soft, out)

    jitter = config.colour_jitter
    unit = (out + 1.0) * 0.5  # [B,3,S,S] in [0,1]
    unit = unit * uniform(1 - jitter, 1 + jitter).view(-1, 1, 1, 1)  # brightness
    grey = (0.299 * unit[:, 0] + 0.587 * unit[:, 1] + 0.114 * unit[:, 2]).unsqueeze(1)
    saturation = uniform(1 - jitter, 1 + jitter).view(-1, 1, 1, 1)
    unit = grey + (unit - grey) * saturation
    mean = unit.mean(dim=(1, 2, 3), keepdim=True)
    unit = mean + (unit - mean) * uniform(1 - jitter, 1 + jitter).view(-1, 1, 1, 1)  # contrast
    return unit.clamp(0.0, 1.0).mul(2.0).sub(1.0)


def cutmix(
    images: torch.Tensor, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, float]:
    """CutMix one batch: (mixed images, partner index per image, share of each image kept).

    images [B,3,S,S]. One box, of area share 1 - lam with lam ~ U(0, 1) and clipped at the
    borders, is pasted into every image from its partner (a random permutation of the
    batch); lam is the share of pixels each image keeps, measured after clipping.
    """
    count, _, height, width = images.shape
    partner = torch.randperm(count, generator=generator)
    lam = float(torch.rand(1, generator=generator))
    box_h, box_w = round(height * math.sqrt(1 - lam)), round(width * math.sqrt(1 - lam))
    centre_y = int(torch.randint(height, (1,), generator=generator))
    centre_x = int(torch.randint(width, (1,), generator=generator))
    top, bottom = max(centre_y - box_h // 2, 0), min(centre_y + (box_h + 1) // 2, height)
    left, right = max(centre_x - box_w // 2, 0), min(centre_x + (box_w + 1) // 2, width)
    mixed = images.clone()
    mixed[:, :, top:bottom, left:right] = images[partner, :, top:bottom, left:right]
    kept = 1.0 - (bottom - top) * (right - left) / (height * width)
    return mixed, partner, kept
