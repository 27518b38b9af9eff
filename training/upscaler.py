"""The learned upscaler: a small FSRCNN-style network trained self-supervised on the photos.

The generator paints small scenes (64 px); the canvas shows them at 256-1000 px. The
upscaler turns a scene into one `scale` times larger with edges, where a plain resize only
blurs. It is trained on the real photos alone: each training pair is a crop of a photo (the
target) and that crop shrunk by `scale` (antialiased bicubic) and then degraded the way a
generated image is soft and noisy (random Gaussian blur, Gaussian noise, JPEG), so the
network learns to sharpen without amplifying the generator's noise.

Network (every convolution at the input's resolution, so the cost grows with the input, not
the output): image [B,3,h,w] in [-1,1] -> 5x5 conv to `features` channels, PReLU -> 1x1 conv
to `shrink`, PReLU -> `mapping` x (3x3 conv, PReLU) -> 3x3 conv to 3*scale^2 -> pixel
shuffle to [B,3,h*scale,w*scale], added to the bilinear upsampling of the input (the network
learns what bilinear misses; its last conv starts at zero, so it starts as bilinear). In
eval mode the result is clipped to [-1,1]. Bilinear, not bicubic, for the skip: ONNX
Runtime's cubic Resize takes ~50 ms at 64->256 px on one CPU thread, bilinear 0.4 ms.

`train_upscaler` runs in the shared `StageLoop` (a checkpoint each epoch, exact resume, a
checkpoint on Ctrl-C) and writes `upscaler.pt`: weights, this UpscalerConfig, the held-out
photo list and the held-out PSNR/SSIM against bicubic. Photos are split per category with
`split_by_item`, so the held-out photos are known and reproducible.
"""

from __future__ import annotations

import io
import logging
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from training.checkpoint import LATEST, CheckpointError, load_checkpoint
from training.context import StopFlag
from training.distributed import ProcessInfo
from training.stage_loop import LoopHost, StageLoop
from visualizer.folders import IMAGE_EXTENSIONS, find_category_files, split_by_item
from visualizer.frontend.records import from_dict
from visualizer.photos import PhotoReadError, read_photo
from visualizer.resize import Filter, resize_rgb8
from visualizer.upscale import to_rgb8

log = logging.getLogger(__name__)

STAGE = "upscaler"
CHECKPOINT_FILE = "upscaler.pt"
CHECKPOINT_FORMAT = "musicscape-upscaler-1"
# Convolutions repeat the edge pixels outward (zero padding darkens a frame around the picture).
EDGE = "replicate"


class UpscalerCheckpointError(CheckpointError):
    """An upscaler checkpoint is missing, unreadable or not an upscaler checkpoint."""


@dataclass(frozen=True)
class UpscalerConfig:
    scale: int = 4  # output side / input side
    input_size: int = 64  # the generator image side it is meant for (the graph takes any)
    features: int = 32
    shrink: int = 16
    mapping: int = 3
    photo_size: int = 128  # photos are read at this side (centre crop, Lanczos)
    patch: int = 96  # training target crops (input crops: patch / scale)
    batch: int = 32
    epochs: int = 14
    steps_per_epoch: int = 400
    lr: float = 2e-3
    min_lr: float = 2e-5  # cosine decay to this over all steps
    # Degradations of the shrunk crop, each applied to this share of a batch's images:
    blur_probability: float = 0.5
    max_blur: float = 1.0  # Gaussian sigma in input pixels, uniform in [0.2, max_blur]
    noise_probability: float = 0.5
    max_noise: float = 0.03  # noise sigma in [0, 1] intensity units, uniform in [0, max]
    jpeg_probability: float = 0.3
    jpeg_min_quality: int = 60  # quality uniform in [jpeg_min_quality, 95]
    validation_fraction: float = 0.1
    seed: int = 0

    def __post_init__(self) -> None:
        if self.scale < 2 or self.input_size < 1:
            raise ValueError(
                f"scale must be >= 2 and input_size >= 1: {self.scale}, {self.input_size}"
            )
        if min(self.features, self.shrink) < 1 or self.mapping < 0:
            raise ValueError("features and shrink must be >= 1, mapping >= 0")
        if self.patch % self.scale or not self.scale <= self.patch <= self.photo_size:
            raise ValueError(
                f"patch {self.patch} must be a multiple of scale {self.scale} and at most "
                f"photo_size {self.photo_size}"
            )
        if self.photo_size % self.scale:
            raise ValueError(f"photo_size {self.photo_size} must be a multiple of scale")
        if self.epochs < 1 or self.steps_per_epoch < 1 or self.batch < 1 or self.lr <= 0:
            raise ValueError("epochs, steps_per_epoch, batch and lr must be positive")
        for name in ("blur_probability", "noise_probability", "jpeg_probability"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1]: {getattr(self, name)}")
        if self.max_blur < 0.2 or self.max_noise < 0:
            raise ValueError("max_blur must be >= 0.2 and max_noise >= 0")
        if not 1 <= self.jpeg_min_quality <= 95:
            raise ValueError(f"jpeg_min_quality must be in [1, 95]: {self.jpeg_min_quality}")
        if not 0.0 < self.validation_fraction < 1.0:
            raise ValueError(f"validation_fraction must be in (0, 1): {self.validation_fraction}")

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> UpscalerConfig:
        return from_dict(cls, values)


class UpscalerNet(nn.Module):
    """image [B,3,h,w] in [-1,1] -> [B,3,h*scale,w*scale] (clipped to [-1,1] in eval mode)."""

    def __init__(self, config: UpscalerConfig):
        super().__init__()
        self.scale = config.scale
        layers: list[nn.Module] = [
            nn.Conv2d(3, config.features, 5, padding=2, padding_mode=EDGE),  # [B,features,h,w]
            nn.PReLU(config.features),
            nn.Conv2d(config.features, config.shrink, 1),  # [B,shrink,h,w]
            nn.PReLU(config.shrink),
        ]
        for _ in range(config.mapping):
            layers += [
                nn.Conv2d(config.shrink, config.shrink, 3, padding=1, padding_mode=EDGE),
                nn.PReLU(config.shrink),
            ]
        self.body = nn.Sequential(*layers)
        # [B,shrink,h,w] -> [B,3*scale^2,h,w] -> pixel shuffle [B,3,h*scale,w*scale]
        self.head = nn.Conv2d(config.shrink, 3 * config.scale**2, 3, padding=1, padding_mode=EDGE)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """The skip is torch's bilinear: it is part of the network, exported as ONNX Resize."""
        base = F.interpolate(image, scale_factor=self.scale, mode="bilinear", align_corners=False)
        out = base + F.pixel_shuffle(self.head(self.body(image)), self.scale)
        return out if self.training else out.clamp(-1.0, 1.0)


def shrink(images: torch.Tensor, scale: int) -> torch.Tensor:
    """[B,3,H,W] in [0,1] -> [B,3,H/scale,W/scale]: antialiased bicubic, clipped to [0,1].
    Torch's resize, not visualizer.resize: it makes training pairs from tensors in a batch."""
    height, width = images.shape[2] // scale, images.shape[3] // scale
    small = F.interpolate(images, size=(height, width), mode="bicubic", antialias=True)
    return small.clamp(0.0, 1.0)


def gaussian_blur(images: torch.Tensor, sigmas: torch.Tensor) -> torch.Tensor:
    """Blur each image [B,3,h,w] with its own Gaussian of std `sigmas[b]` (5x5, reflected)."""
    offsets = torch.arange(-2, 3, dtype=images.dtype)
    kernels = torch.exp(-0.5 * (offsets[None, :] / sigmas[:, None]) ** 2)
    kernels = kernels / kernels.sum(dim=1, keepdim=True)  # [B, 5]
    count, channels, height, width = images.shape
    flat = images.reshape(1, count * channels, height, width)
    weights = kernels.repeat_interleave(channels, dim=0)  # [B*3, 5]
    flat = F.conv2d(F.pad(flat, (2, 2, 0, 0), mode="reflect"), weights[:, None, None, :],
                    groups=count * channels)  # fmt: skip
    flat = F.conv2d(F.pad(flat, (0, 0, 2, 2), mode="reflect"), weights[:, None, :, None],
                    groups=count * channels)  # fmt: skip
    return flat.reshape(count, channels, height, width)


def jpeg(image: torch.Tensor, quality: int) -> torch.Tensor:
    """One image [3,h,w] in [0,1] through a JPEG encode and decode at `quality`."""
    pixels = (image.permute(1, 2, 0).numpy() * 255.0 + 0.5).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=quality)
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        back = np.asarray(decoded.convert("RGB"), dtype=np.float32) / 255.0
    return torch.from_numpy(back).permute(2, 0, 1)


def degrade(
    small: torch.Tensor, config: UpscalerConfig, generator: torch.Generator
) -> torch.Tensor:
    """The shrunk crops [B,3,h,w] in [0,1], each blurred, noised and JPEG-compressed with the
    config's probabilities and random strengths (draws from the CPU `generator`)."""
    count = small.shape[0]

    def chosen(probability: float) -> torch.Tensor:
        return torch.rand(count, generator=generator) < probability

    blur = chosen(config.blur_probability)
    sigmas = 0.2 + (config.max_blur - 0.2) * torch.rand(count, generator=generator)
    if bool(blur.any()):
        blurred = gaussian_blur(small, sigmas)
        small = torch.where(blur.view(-1, 1, 1, 1), blurred, small)
    noise = chosen(config.noise_probability)
    strength = config.max_noise * torch.rand(count, generator=generator) * noise
    small = small + strength.view(-1, 1, 1, 1) * torch.randn(small.shape, generator=generator)
    small = small.clamp(0.0, 1.0)
    compress = chosen(config.jpeg_probability)
    qualities = torch.randint(config.jpeg_min_quality, 96, (count,), generator=generator)
    for index in torch.nonzero(compress).flatten().tolist():
        small[index] = jpeg(small[index], int(qualities[index]))
    return small


def training_pairs(
    photos: torch.Tensor,
    config: UpscalerConfig,
    rng: np.random.Generator,
    generator: torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch of (degraded input, target), both in [-1,1], from uint8 photos [N,S,S,3]:
    random crops of `config.patch`, mirrored and rotated by a multiple of 90 degrees."""
    chosen = rng.integers(0, photos.shape[0], config.batch)
    corners = rng.integers(0, config.photo_size - config.patch + 1, (config.batch, 2))
    turns = rng.integers(0, 4, config.batch)
    mirrors = rng.integers(0, 2, config.batch)
    crops = []
    for index, (top, left), turn, mirror in zip(chosen, corners, turns, mirrors, strict=True):
        crop = photos[index, top : top + config.patch, left : left + config.patch]  # [P,P,3]
        crop = torch.rot90(crop, int(turn), dims=(0, 1))
        crops.append(torch.flip(crop, dims=(1,)) if mirror else crop)
    target = torch.stack(crops).permute(0, 3, 1, 2).float() / 255.0  # [B,3,P,P]
    small = degrade(shrink(target, config.scale), config, generator)
    return small * 2.0 - 1.0, target * 2.0 - 1.0


def psnr(estimate: np.ndarray, target: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB of two uint8 images (peak 255)."""
    error = np.mean((estimate.astype(np.float64) - target.astype(np.float64)) ** 2)
    return float("inf") if error == 0 else float(10.0 * math.log10(255.0**2 / error))


def luma(image: np.ndarray) -> np.ndarray:
    """uint8 RGB [H,W,3] -> float64 BT.601 luma [H,W] in [0, 255]."""
    return image.astype(np.float64) @ np.array([0.299, 0.587, 0.114])


def ssim(estimate: np.ndarray, target: np.ndarray) -> float:
    """Mean SSIM (Wang et al. 2004: 11x11 Gaussian window, sigma 1.5, K1 0.01, K2 0.03) of
    the luma of two uint8 RGB images, over the positions where the window fits."""
    from scipy.ndimage import correlate1d

    offsets = np.arange(-5, 6)
    window = np.exp(-0.5 * (offsets / 1.5) ** 2)
    window /= window.sum()
    x, y = luma(estimate), luma(target)

    def blur(values: np.ndarray) -> np.ndarray:  # the separable window, "valid" positions
        smooth = correlate1d(correlate1d(values, window, axis=0), window, axis=1)
        return smooth[5:-5, 5:-5]

    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mean_x, mean_y = blur(x), blur(y)
    var_x = blur(x * x) - mean_x**2
    var_y = blur(y * y) - mean_y**2
    covariance = blur(x * y) - mean_x * mean_y
    numerator = (2 * mean_x * mean_y + c1) * (2 * covariance + c2)
    denominator = (mean_x**2 + mean_y**2 + c1) * (var_x + var_y + c2)
    return float(np.mean(numerator / denominator))


@torch.no_grad()
def held_out_figures(
    model: UpscalerNet, photos: np.ndarray, config: UpscalerConfig, degraded: bool
) -> dict[str, float]:
    """Mean PSNR (RGB) and SSIM (luma) of the model and of bicubic on photos [N,S,S,3]
    shrunk by `config.scale` (and, when `degraded`, blurred, noised and compressed with a
    fixed seed), both from the same uint8 input."""
    model.eval()
    generator = torch.Generator().manual_seed(12345)
    sums = {"psnr": 0.0, "ssim": 0.0, "bicubic_psnr": 0.0, "bicubic_ssim": 0.0}
    for start in range(0, len(photos), 64):
        target = torch.from_numpy(photos[start : start + 64]).permute(0, 3, 1, 2).float() / 255
        small = shrink(target, config.scale)
        if degraded:
            small = degrade(small, config, generator)
        small = (small * 255.0 + 0.5).floor() / 255.0  # the uint8 input both methods see
        learned = model(small * 2.0 - 1.0)
        for index in range(small.shape[0]):
            truth = photos[start + index]
            ours = to_rgb8(learned[index].cpu().numpy())
            theirs = resize_rgb8(
                to_rgb8((small[index] * 2.0 - 1.0).numpy()), config.photo_size, Filter.BICUBIC
            )  # the app's enlargement without a learned upscaler
            sums["psnr"] += psnr(ours, truth)
            sums["ssim"] += ssim(ours, truth)
            sums["bicubic_psnr"] += psnr(theirs, truth)
            sums["bicubic_ssim"] += ssim(theirs, truth)
    return {key: value / len(photos) for key, value in sums.items()}


def _read_photos(paths: list[Path], size: int, skipped: list[tuple[str, str]]) -> tuple:
    images, kept = [], []
    for path in paths:
        try:
            images.append(read_photo(path, size))
        except PhotoReadError as error:
            skipped.append((str(path), str(error)))
            log.warning("skipping photo: %s", error)
            continue
        kept.append(path)
    return np.stack(images) if images else np.empty((0, size, size, 3), np.uint8), kept


def train_upscaler(
    scenes_root: Path,
    out_dir: Path,
    config: UpscalerConfig,
    stop: StopFlag | None = None,
    progress: bool = False,
) -> Path:
    """Train the upscaler on `scenes_root/<category>/*` photos; write and return
    out_dir/upscaler.pt. A checkpoint after every epoch and when `stop` is requested (which
    raises `TrainingInterrupted`); called again on the same `out_dir` it resumes exactly
    where it stopped, and refuses a folder started with another UpscalerConfig."""
    scenes_root = Path(scenes_root).resolve()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _refuse_other_config(out_dir / LATEST, config)
    found = find_category_files(scenes_root, IMAGE_EXTENSIONS)
    train_paths: list[Path] = []
    held_out_paths: list[Path] = []
    for name in found.categories:
        training, held_out = split_by_item(
            found.files[name], config.validation_fraction, config.seed
        )
        train_paths += training
        held_out_paths += held_out
    started = time.monotonic()
    skipped: list[tuple[str, str]] = [(str(p), reason) for p, reason in found.skipped]
    train_photos, _ = _read_photos(train_paths, config.photo_size, skipped)
    held_out_photos, held_out_paths = _read_photos(held_out_paths, config.photo_size, skipped)
    if len(train_photos) == 0 or len(held_out_photos) == 0:
        raise ValueError(f"{scenes_root}: no readable training or held-out photo")
    log.info(
        "upscaler data: %d training, %d held-out photos; %d skipped (%.0f s)",
        len(train_photos),
        len(held_out_photos),
        len(skipped),
        time.monotonic() - started,
    )

    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)  # degradations
    model = UpscalerNet(config)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    total = config.epochs * config.steps_per_epoch
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, total, eta_min=config.min_lr)
    photos = torch.from_numpy(train_photos)

    def step(rng: np.random.Generator) -> dict[str, float]:
        model.train()
        small, target = training_pairs(photos, config, rng, generator)
        loss = F.l1_loss(model(small), target)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        return {"l1": float(loss.detach())}

    def end_epoch(epoch: int) -> dict[str, float]:
        figures = held_out_figures(model, held_out_photos, config, degraded=False)
        return {"held_out_psnr": figures["psnr"], "bicubic_psnr": figures["bicubic_psnr"]}

    def state() -> dict[str, Any]:
        return {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "schedule": schedule.state_dict(),
            "degrade_rng": generator.get_state(),
        }

    def load(saved: dict[str, Any]) -> None:
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        schedule.load_state_dict(saved["schedule"])
        generator.set_state(saved["degrade_rng"])

    host = LoopHost(
        stage=STAGE,
        folder=out_dir,
        rng=np.random.default_rng(config.seed),
        process=ProcessInfo(rank=0, world_size=1, device=torch.device("cpu")),
        stop=stop or StopFlag(),
        progress=progress,
        checkpoint_info={"config": asdict(config), "categories": list(found.categories)},
    )
    StageLoop(host, config.epochs, config.steps_per_epoch, step, state, load, end_epoch).run()

    model.eval()
    figures = {
        "clean": held_out_figures(model, held_out_photos, config, degraded=False),
        "degraded": held_out_figures(model, held_out_photos, config, degraded=True),
    }
    path = out_dir / CHECKPOINT_FILE
    torch.save(
        {
            "format": CHECKPOINT_FORMAT,
            "config": asdict(config),
            "model_state": model.state_dict(),
            "figures": figures,
            "categories": list(found.categories),
            "validation_photos": [p.relative_to(scenes_root).as_posix() for p in held_out_paths],
            "train_photo_count": len(train_photos),
            "skipped": skipped,
            "scenes_root": str(scenes_root),
        },
        path,
    )
    log.info("upscaler: held-out figures %s; wrote %s", figures, path)
    return path


def _refuse_other_config(latest: Path, config: UpscalerConfig) -> None:
    """An upscaler folder resumes only with the UpscalerConfig it was started with."""
    if not latest.exists():
        return
    saved = load_checkpoint(latest, STAGE)["config"]
    if UpscalerConfig.from_dict(saved) != config:
        changed = sorted(key for key, value in asdict(config).items() if saved.get(key) != value)
        raise UpscalerCheckpointError(
            f"{latest}: this upscaler was started with another UpscalerConfig (differs in "
            f"{', '.join(changed)}); resume it with the same config or train into a new folder"
        )


def load_upscaler(path: Path) -> tuple[UpscalerNet, dict[str, Any]]:
    """(model in eval mode, info: everything upscaler.pt stores but the weights)."""
    path = Path(path)
    if not path.is_file():
        raise UpscalerCheckpointError(f"{path}: no such upscaler checkpoint")
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for a damaged file
        raise UpscalerCheckpointError(
            f"{path}: unreadable upscaler checkpoint ({error})"
        ) from error
    if not isinstance(saved, dict) or saved.get("format") != CHECKPOINT_FORMAT:
        raise UpscalerCheckpointError(f"{path}: not a musicscape upscaler checkpoint")
    info = {key: value for key, value in saved.items() if key != "model_state"}
    model = UpscalerNet(UpscalerConfig.from_dict(info["config"]))
    model.load_state_dict(saved["model_state"])
    return model.eval(), info
