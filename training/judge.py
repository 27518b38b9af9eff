"""The judge: a scene classifier trained only on real photos, used to judge generated images.

It never sees a generated image. `musicscape eval` runs its ONNX export on the generator's
output: its category is the "generation accuracy", its penultimate features give the
diversity and the Frechet distance (fid_judge).

Input: images in [-1, 1], [B, 3, S, S] with S = `JudgeConfig.image_size` (the generator's 64).
Output: (logits [B, C], features [B, D]), D = the last width.

Several judges (say one at 64 and one at 128 pixels) combine into a `JudgeEnsemble` with
`combine_judges`: their class probabilities are averaged, their features placed side by side.

Training: every photo is decoded once into a uint8 array (at `store_size`, a little larger
than `image_size`, so random resized crops keep detail); batches are augmented on the fly
(random resized crop + horizontal flip via one affine resampling, colour jitter), sampled
class-balanced, optionally CutMix'ed, with label smoothing, AdamW (or SGD with Nesterov
momentum, `optimizer="sgd"`) and a one-cycle learning rate; the saved weights may be the
mean of the last epochs' (`average_epochs`). Photos are split by image per category with
`split_by_item`, so the held-out list is known and reproducible.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from training.checkpoint import LATEST, CheckpointError, load_checkpoint
from training.context import StopFlag
from training.distributed import ProcessInfo
from training.stage_loop import LoopHost, StageLoop
from training.weight_average import EqualWeightAverage, recalibrate_batch_norm
from visualizer.folders import IMAGE_EXTENSIONS, find_category_files, split_by_item
from visualizer.photos import PhotoReadError, read_photo

log = logging.getLogger(__name__)

CHECKPOINT_FILE = "judge.pt"
CHECKPOINT_FORMAT = 1  # one SceneJudge
ENSEMBLE_FORMAT = 2  # a JudgeEnsemble written by combine_judges


class JudgeCheckpointError(CheckpointError):
    """A judge checkpoint is missing, unreadable or not a judge checkpoint."""


OPTIMIZERS = ("adamw", "sgd")


@dataclass
class JudgeConfig:
    image_size: int = 64  # model input side (the generator's output size)
    # Side photos are decoded to; random crops are taken from it. None: 1.25 x image_size.
    store_size: int | None = None
    widths: tuple[int, ...] = (32, 64, 128, 256)  # stem width, then one stage per width
    blocks_per_stage: int = 1
    dropout: float = 0.2
    epochs: int = 22
    batch: int = 64
    # "adamw" (weight decay decoupled from the gradient) or "sgd" (Nesterov momentum 0.9,
    # weight decay as an L2 term in the gradient: far stronger at the same figure).
    optimizer: str = "adamw"
    lr: float = 3e-3
    weight_decay: float = 5e-4
    label_smoothing: float = 0.1
    crop_min_area: float = 0.45  # random resized crop: smallest share of the photo's area
    colour_jitter: float = 0.25  # brightness/contrast/saturation factors in 1 +- this
    # Share of training images blurred by resampling down by 1.5-3x and back up: generated
    # 64x64 images are soft, and a judge trained only on sharp photos calls soft images sky.
    blur_probability: float = 0.3
    flip_average: bool = True  # in eval mode, average the image and its mirror image
    # Share of training batches with CutMix (Yun et al. 2019): a box of each image is pasted
    # from another one of the batch, and the loss is split between the two labels by area.
    cutmix_probability: float = 0.0
    # The saved judge is the plain average of the weights at the end of each of the last
    # `average_epochs` epochs, with BatchNorm statistics re-measured on the average. 0: the
    # last epoch's weights.
    average_epochs: int = 0
    average_calibration_batches: int = 40
    # Knowledge distillation (Hinton et al. 2015): a trained judge checkpoint (one judge or an
    # ensemble, holding out the same photos) whose class probabilities for each whole
    # training photo are soft targets; the loss is (1 - teacher_weight) x the label's cross
    # entropy + teacher_weight x the teacher's. None: labels only.
    teacher: str | None = None
    teacher_weight: float = 0.5
    seed: int = 0
    validation_fraction: float = 0.2

    def __post_init__(self) -> None:
        self.widths = tuple(int(w) for w in self.widths)
        if self.store_size is None:
            self.store_size = round(self.image_size * 1.25)
        if len(self.widths) < 2 or min(self.widths) < 1:
            raise ValueError(f"widths needs a stem and at least one stage: {self.widths}")
        if self.image_size < 2 ** (len(self.widths) - 1):
            raise ValueError(
                f"image_size {self.image_size} is too small for {len(self.widths) - 1} "
                "downsampling stages"
            )
        if self.store_size < self.image_size:
            raise ValueError(f"store_size {self.store_size} < image_size {self.image_size}")
        if not 0.0 < self.validation_fraction < 1.0:
            raise ValueError(f"validation_fraction must be in (0, 1): {self.validation_fraction}")
        if not 0.0 < self.crop_min_area <= 1.0:
            raise ValueError(f"crop_min_area must be in (0, 1]: {self.crop_min_area}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}: {self.optimizer!r}")
        if self.epochs < 1 or self.batch < 1 or self.lr <= 0:
            raise ValueError("epochs, batch and lr must be positive")
        if not 0.0 <= self.cutmix_probability <= 1.0:
            raise ValueError(f"cutmix_probability must be in [0, 1]: {self.cutmix_probability}")
        if not 0 <= self.average_epochs <= self.epochs:
            raise ValueError(
                f"average_epochs must be in [0, epochs={self.epochs}]: {self.average_epochs}"
            )
        if self.average_epochs and self.average_calibration_batches < 1:
            raise ValueError("average_calibration_batches must be at least 1")
        if not 0.0 <= self.teacher_weight <= 1.0:
            raise ValueError(f"teacher_weight must be in [0, 1]: {self.teacher_weight}")

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> JudgeConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown judge config keys: {', '.join(unknown)}")
        return cls(**values)


class ResidualBlock(nn.Module):
    """Pre-activation basic block; a strided 1x1 projection when the shape changes."""

    def __init__(self, in_channels: int, out_channels: int, stride: int):
        super().__init__()
        self.norm1 = nn.BatchNorm2d(in_channels)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.project = None
        if stride != 1 or in_channels != out_channels:
            self.project = nn.Conv2d(in_channels, out_channels, 1, stride, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        activated = F.relu(self.norm1(x))
        shortcut = x if self.project is None else self.project(activated)
        out = self.conv1(activated)
        out = self.conv2(F.relu(self.norm2(out)))
        return out + shortcut


class SceneJudge(nn.Module):
    """Compact pre-activation ResNet.

    image [B,3,S,S] in [-1,1] -> (logits [B,C], features [B,D]), D = the last width.
    """

    def __init__(self, config: JudgeConfig, n_categories: int):
        super().__init__()
        if n_categories < 2:
            raise ValueError(f"a judge needs at least two categories, got {n_categories}")
        self.config = config
        widths = config.widths
        # [B,3,S,S] -> [B,w0,S,S]
        self.stem = nn.Conv2d(3, widths[0], 3, 1, 1, bias=False)
        stages = []
        for in_width, out_width in zip(widths[:-1], widths[1:], strict=True):
            # [B,in,s,s] -> [B,out,s/2,s/2], then blocks_per_stage-1 blocks at [B,out,s/2,s/2]
            blocks = [ResidualBlock(in_width, out_width, stride=2)]
            blocks += [
                ResidualBlock(out_width, out_width, 1) for _ in range(config.blocks_per_stage - 1)
            ]
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)
        self.final_norm = nn.BatchNorm2d(widths[-1])
        self.dropout = nn.Dropout(config.dropout)
        self.classifier = nn.Linear(widths[-1], n_categories)

    @property
    def feature_dim(self) -> int:
        return self.config.widths[-1]

    def _forward_once(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.stages(self.stem(image))  # [B, wN, S/2^N, S/2^N]
        features = F.relu(self.final_norm(x)).mean(dim=(2, 3))  # [B, wN]
        return self.classifier(self.dropout(features)), features

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.training or not self.config.flip_average:
            return self._forward_once(image)
        logits, features = self._forward_once(image)
        mirrored_logits, mirrored_features = self._forward_once(torch.flip(image, dims=[3]))
        return (logits + mirrored_logits) * 0.5, (features + mirrored_features) * 0.5


class JudgeEnsemble(nn.Module):
    """Judges as one: the mean of their class probabilities, their features side by side.

    image [B,3,S,S] in [-1,1], S = the largest member's size -> (log of the mean probability
    [B,C], features [B, sum of member widths]). A member of size S/k sees the image
    average-pooled by k (sizes must divide S).
    """

    def __init__(self, members: list[SceneJudge]):
        super().__init__()
        if len(members) < 2:
            raise ValueError(f"an ensemble needs at least two judges, got {len(members)}")
        self.image_size = max(member.config.image_size for member in members)
        for member in members:
            if self.image_size % member.config.image_size:
                raise ValueError(
                    f"judge size {member.config.image_size} does not divide the ensemble's "
                    f"input size {self.image_size}"
                )
        self.members = nn.ModuleList(members)

    @property
    def feature_dim(self) -> int:
        return sum(member.feature_dim for member in self.members)

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        probabilities, features = [], []
        for member in self.members:
            factor = self.image_size // member.config.image_size
            scaled = image if factor == 1 else F.avg_pool2d(image, factor)
            logits, member_features = member(scaled)
            probabilities.append(torch.softmax(logits, dim=1))
            features.append(member_features)
        mean = torch.stack(probabilities).mean(dim=0)  # [B, C]
        return torch.log(mean.clamp_min(1e-12)), torch.cat(features, dim=1)


def judge_input_size(model: SceneJudge | JudgeEnsemble) -> int:
    return model.image_size if isinstance(model, JudgeEnsemble) else model.config.image_size


@dataclass
class PhotoSet:
    images: np.ndarray  # uint8 [N, size, size, 3]
    labels: np.ndarray  # int64 [N]
    paths: list[str]  # "<category>/<file>" relative to the scenes root


def _read_photos(
    root: Path, labelled: list[tuple[Path, int]], size: int, skipped: list[tuple[str, str]]
) -> PhotoSet:
    images = np.empty((len(labelled), size, size, 3), dtype=np.uint8)
    labels, paths = [], []
    for path, label in labelled:
        try:
            images[len(labels)] = read_photo(path, size)
        except PhotoReadError as error:
            skipped.append((str(path), str(error)))
            log.warning("skipping photo: %s", error)
            continue
        labels.append(label)
        paths.append(path.relative_to(root).as_posix())
    return PhotoSet(images[: len(labels)].copy(), np.asarray(labels, dtype=np.int64), paths)


def make_optimizer(model: nn.Module, config: JudgeConfig) -> torch.optim.Optimizer:
    if config.optimizer == "sgd":
        return torch.optim.SGD(
            model.parameters(),
            lr=config.lr,
            momentum=0.9,
            nesterov=True,
            weight_decay=config.weight_decay,
        )
    return torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)


def to_model_input(images: np.ndarray) -> torch.Tensor:
    """uint8 [N,H,W,3] -> float32 [N,3,H,W] in [-1, 1]."""
    tensor = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float()
    return tensor.mul_(2.0 / 255.0).sub_(1.0)


def augment(batch: torch.Tensor, config: JudgeConfig, generator: torch.Generator) -> torch.Tensor:
    """Random resized crop + mirror (one bilinear resampling) and colour jitter.

    batch: [B,3,store,store] in [-1,1] -> [B,3,image_size,image_size] in [-1,1], on the
    batch's device. The random draws come from the CPU `generator` on any device, so a run
    on a GPU draws the same crops, mirrors and jitter as one on the CPU.
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


def judge_loss(
    logits: torch.Tensor,
    labels: torch.Tensor,
    soft_targets: torch.Tensor | None,
    config: JudgeConfig,
) -> torch.Tensor:
    """The label's cross entropy (smoothed by `config.label_smoothing`), mixed with the cross
    entropy against a teacher's probabilities `soft_targets` [B, C] by `config.teacher_weight`
    when there are any. logits [B, C], labels [B]."""
    hard = F.cross_entropy(logits, labels, label_smoothing=config.label_smoothing)
    if soft_targets is None:
        return hard
    soft = F.cross_entropy(logits, soft_targets)
    return (1.0 - config.teacher_weight) * hard + config.teacher_weight * soft


@torch.no_grad()
def teacher_probabilities(
    path: Path, categories: tuple[str, ...], train_set: PhotoSet, held_out: PhotoSet
) -> torch.Tensor:
    """[N, C]: the class probabilities a trained judge gives each whole training photo (eval
    mode, resampled to its input size). It must hold out the same photos as the judge it
    teaches, so that no held-out photo shaped its answers."""
    teacher, info = load_judge(path)
    if not _same_split(info, list(categories), held_out.paths):
        raise JudgeCheckpointError(
            f"{path}: the teacher's categories or held-out photos differ from this judge's "
            "(train it on the same scenes with the same seed and validation_fraction)"
        )
    result = torch.softmax(torch.from_numpy(predict(teacher, train_set.images)), dim=1)
    agreement = float((result.argmax(1).numpy() == train_set.labels).mean())
    log.info("judge: teacher %s agrees with %.3f of the training labels", path, agreement)
    return result


def balanced_indices(labels: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """`count` indices drawn with replacement so that every category is equally likely."""
    frequency = np.bincount(labels)
    weights = 1.0 / frequency[labels]
    return rng.choice(len(labels), size=count, replace=True, p=weights / weights.sum())


@torch.no_grad()
def predict(model: SceneJudge | JudgeEnsemble, images: np.ndarray, batch: int = 256) -> np.ndarray:
    """Eval-mode logits [N, C] for uint8 photos [N, H, W, 3], computed on the model's device;
    photos of another size than the model's input are resampled to it (bilinear, antialiased)."""
    model.eval()
    device = next(model.parameters()).device
    size = judge_input_size(model)
    out = []
    for start in range(0, len(images), batch):
        inputs = to_model_input(images[start : start + batch])
        if inputs.shape[2:] != (size, size):
            inputs = F.interpolate(inputs, size=(size, size), mode="bilinear", antialias=True)
        logits, _ = model(inputs.to(device, memory_format=torch.channels_last))
        out.append(logits.cpu())
    return torch.cat(out).numpy()


def per_category_accuracy(
    predictions: np.ndarray, labels: np.ndarray, categories: tuple[str, ...]
) -> dict[str, float]:
    return {
        name: float(np.mean(predictions[labels == index] == index))
        for index, name in enumerate(categories)
        if np.any(labels == index)
    }


def train_judge(
    scenes_root: Path,
    out_dir: Path,
    config: JudgeConfig,
    device: str,
    initial_checkpoint: Path | None = None,
    stop: StopFlag | None = None,
    progress: bool = False,
) -> Path:
    """Train a judge on `scenes_root/<category>/*` photos; write and return out_dir/judge.pt.

    Runs in the shared `StageLoop`: a checkpoint (weights, optimiser, schedule, RNG state and
    this JudgeConfig) after every epoch and when `stop` is requested, which raises
    `TrainingInterrupted`; called again on the same `out_dir` it resumes exactly where it
    stopped. A checkpoint written with another JudgeConfig is refused.

    `initial_checkpoint`: start from that judge's weights (same widths, categories and
    held-out split) instead of from scratch, e.g. a short low-rate run with milder
    augmentation after the main one.
    """
    scenes_root = Path(scenes_root).resolve()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    found = find_category_files(scenes_root, IMAGE_EXTENSIONS)
    categories = found.categories
    train_items: list[tuple[Path, int]] = []
    validation_items: list[tuple[Path, int]] = []
    for index, name in enumerate(categories):
        train_files, validation_files = split_by_item(
            found.files[name], config.validation_fraction, config.seed
        )
        train_items += [(path, index) for path in train_files]
        validation_items += [(path, index) for path in validation_files]

    started = time.monotonic()
    skipped: list[tuple[str, str]] = [(str(p), reason) for p, reason in found.skipped]
    train_set = _read_photos(scenes_root, train_items, config.store_size, skipped)
    validation_set = _read_photos(scenes_root, validation_items, config.image_size, skipped)
    unreadable = len(train_items) + len(validation_items) - len(train_set.labels)
    unreadable -= len(validation_set.labels)
    log.info(
        "judge data: %d training, %d held-out photos in %s; %d unreadable skipped (%.0f s)",
        len(train_set.labels),
        len(validation_set.labels),
        dict(zip(categories, np.bincount(train_set.labels).tolist(), strict=True)),
        unreadable,
        time.monotonic() - started,
    )
    if len(np.unique(train_set.labels)) < len(categories):
        raise ValueError(f"{scenes_root}: a category has no readable training photo")
    _refuse_other_config(out_dir / LATEST, config)
    soft_targets = None
    if config.teacher is not None:
        soft_targets = teacher_probabilities(
            Path(config.teacher), categories, train_set, validation_set
        ).to(device)

    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)  # augmentation and CutMix
    # channels_last: ~5x faster convolutions on CPU here (measured, torch 2.13).
    model = SceneJudge(config, len(categories))
    if initial_checkpoint is not None:
        model.load_state_dict(_initial_state(initial_checkpoint, config, categories))
    model = model.to(device, memory_format=torch.channels_last)
    steps_per_epoch = max(1, len(train_set.labels) // config.batch)
    optimizer = make_optimizer(model, config)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=config.lr, total_steps=config.epochs * steps_per_epoch, pct_start=0.2
    )
    stored = to_model_input(train_set.images).to(device)  # [N,3,store,store] float, once
    average = EqualWeightAverage()
    epoch_order = np.empty(0, dtype=np.int64)  # this epoch's photos, drawn at its first step
    position = 0  # steps taken in this epoch

    def step(rng: np.random.Generator) -> dict[str, float]:
        nonlocal epoch_order, position
        if position == 0:
            epoch_order = balanced_indices(train_set.labels, steps_per_epoch * config.batch, rng)
        model.train()
        chosen = torch.from_numpy(
            epoch_order[position * config.batch : (position + 1) * config.batch]
        )
        position = (position + 1) % steps_per_epoch
        images = augment(stored[chosen], config, generator)
        labels = torch.from_numpy(train_set.labels[chosen.numpy()]).to(device)
        partner, kept = None, 1.0
        if config.cutmix_probability > 0 and (
            float(torch.rand(1, generator=generator)) < config.cutmix_probability
        ):
            images, partner, kept = cutmix(images, generator)
        logits, _ = model(images.to(device, memory_format=torch.channels_last))
        soft = None if soft_targets is None else soft_targets[chosen.to(device)]
        loss = kept * judge_loss(logits, labels, soft, config)
        if partner is not None:
            other = partner.to(device)
            loss = loss + (1.0 - kept) * judge_loss(
                logits, labels[other], None if soft is None else soft[other], config
            )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        accuracy = float((logits.argmax(1) == labels).float().mean())
        return {"loss": float(loss.detach()), "train_accuracy": accuracy}

    def end_epoch(epoch: int) -> dict[str, float]:
        if epoch > config.epochs - config.average_epochs:
            average.add(model)
        predictions = predict(model, validation_set.images).argmax(1)
        return {"held_out_accuracy": float(np.mean(predictions == validation_set.labels))}

    def state() -> dict[str, Any]:
        return {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "schedule": schedule.state_dict(),
            "augment_rng": generator.get_state(),
            "average": average.state_dict(),
            "epoch_order": epoch_order,
            "position": position,
        }

    def load(saved: dict[str, Any]) -> None:
        nonlocal epoch_order, position
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        schedule.load_state_dict(saved["schedule"])
        generator.set_state(saved["augment_rng"])
        average.load_state_dict(saved["average"], like=model)
        epoch_order, position = saved["epoch_order"], saved["position"]

    host = LoopHost(
        stage="judge",
        folder=out_dir,
        rng=np.random.default_rng(config.seed),
        process=ProcessInfo(rank=0, world_size=1, device=torch.device(device)),
        stop=stop or StopFlag(),
        progress=progress,
        checkpoint_info={"config": asdict(config), "categories": list(categories)},
    )
    loop = StageLoop(host, config.epochs, steps_per_epoch, step, state, load, end_epoch)
    loop.run()

    if average.model is not None:
        model = average.model
        calibration = _calibration_batches(stored, train_set.labels, config, device)
        recalibrate_batch_norm(model, calibration)
    model.cpu().eval()
    predictions = predict(model, validation_set.images).argmax(1)
    validation_accuracy = float(np.mean(predictions == validation_set.labels))
    per_category = per_category_accuracy(predictions, validation_set.labels, categories)
    if average.model is not None:
        log.info(
            "judge: the average of the last %d epochs' weights: held-out acc %.3f",
            average.count,
            validation_accuracy,
        )
    info = {
        "format": CHECKPOINT_FORMAT,
        "config": asdict(config),
        "categories": list(categories),
        "validation_accuracy": validation_accuracy,
        "validation_per_category": per_category,
        "validation_photos": validation_set.paths,
        "train_photo_count": len(train_set.labels),
        "skipped": skipped,
        "scenes_root": str(scenes_root),
        "train_seconds": time.monotonic() - started,
    }
    path = out_dir / CHECKPOINT_FILE
    torch.save({"model_state": model.state_dict(), **info}, path)
    log.info(
        "judge: held-out accuracy %.3f %s; wrote %s",
        validation_accuracy,
        {name: round(value, 3) for name, value in per_category.items()},
        path,
    )
    return path


def _refuse_other_config(latest: Path, config: JudgeConfig) -> None:
    """A judge folder resumes only with the JudgeConfig it was started with."""
    if not latest.exists():
        return
    saved = load_checkpoint(latest, "judge")["config"]
    if JudgeConfig.from_dict(saved) != config:
        changed = sorted(key for key, value in asdict(config).items() if saved.get(key) != value)
        raise JudgeCheckpointError(
            f"{latest}: this judge was started with another JudgeConfig (differs in "
            f"{', '.join(changed)}); resume it with the same config or train into a new folder"
        )


def _calibration_batches(
    stored: torch.Tensor, labels: np.ndarray, config: JudgeConfig, device: str
) -> list[tuple[torch.Tensor]]:
    """Augmented, class-balanced training batches (a fixed draw) that re-measure the
    averaged judge's BatchNorm statistics."""
    rng = np.random.default_rng(config.seed + 1)
    generator = torch.Generator().manual_seed(config.seed + 1)
    count = config.average_calibration_batches
    order = balanced_indices(labels, count * config.batch, rng)
    batches = []
    for index in range(count):
        chosen = torch.from_numpy(order[index * config.batch : (index + 1) * config.batch])
        images = augment(stored[chosen], config, generator)
        batches.append((images.to(device, memory_format=torch.channels_last),))
    return batches


def _initial_state(
    path: Path, config: JudgeConfig, categories: tuple[str, ...]
) -> dict[str, torch.Tensor]:
    previous, info = load_judge(path)
    if isinstance(previous, JudgeEnsemble):
        raise JudgeCheckpointError(f"{path}: an ensemble; continue from one of its members")
    same = (
        previous.config.widths == config.widths
        and previous.config.blocks_per_stage == config.blocks_per_stage
        and tuple(info["categories"]) == categories
        and previous.config.seed == config.seed
        and previous.config.validation_fraction == config.validation_fraction
    )
    if not same:
        raise JudgeCheckpointError(
            f"{path}: cannot continue from this judge: its widths, blocks, categories or "
            "held-out split (seed, validation_fraction) differ from this run's"
        )
    return previous.state_dict()


def load_judge(path: Path) -> tuple[SceneJudge | JudgeEnsemble, dict[str, Any]]:
    """(model in eval mode, info: everything stored except the weights, plus "split": the
    held-out split's seed and validation_fraction)."""
    path = Path(path)
    if not path.is_file():
        raise JudgeCheckpointError(f"{path}: no such judge checkpoint")
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for a damaged file
        raise JudgeCheckpointError(f"{path}: unreadable judge checkpoint ({error})") from error
    if not isinstance(saved, dict) or saved.get("format") not in (
        CHECKPOINT_FORMAT,
        ENSEMBLE_FORMAT,
    ):
        raise JudgeCheckpointError(f"{path}: not a musicscape judge checkpoint")
    n_categories = len(saved["categories"])

    def member(config: dict[str, Any], state: dict[str, torch.Tensor]) -> SceneJudge:
        model = SceneJudge(JudgeConfig.from_dict(config), n_categories)
        model.load_state_dict(state)
        return model

    if saved["format"] == CHECKPOINT_FORMAT:
        info = {key: value for key, value in saved.items() if key != "model_state"}
        model = member(info["config"], saved["model_state"])
        info["split"] = {
            "seed": model.config.seed,
            "validation_fraction": model.config.validation_fraction,
        }
        return model.eval(), info
    info = {key: value for key, value in saved.items() if key != "members"}
    ensemble = JudgeEnsemble([member(m["config"], m["model_state"]) for m in saved["members"]])
    return ensemble.eval(), info


def _same_split(info: dict[str, Any], categories: list[str], held_out_photos: list[str]) -> bool:
    """Whether a loaded judge (`info` from `load_judge`) has these categories and held out
    exactly these photos."""
    return info["categories"] == categories and info["validation_photos"] == held_out_photos


def combine_judges(checkpoints: list[Path], out_dir: Path) -> Path:
    """Combine trained judges (same categories and held-out photos) into one ensemble
    checkpoint out_dir/judge.pt, measured on those held-out photos; returns its path."""
    loaded = [load_judge(path) for path in checkpoints]
    first = loaded[0][1]
    for (model, info), path in zip(loaded, checkpoints, strict=True):
        if isinstance(model, JudgeEnsemble):
            raise JudgeCheckpointError(f"{path}: already an ensemble; combine its members")
        if not _same_split(info, first["categories"], first["validation_photos"]):
            raise JudgeCheckpointError(
                f"{path}: its categories or held-out photos differ from {checkpoints[0]}'s "
                "(train every member on the same scenes with the same seed and "
                "validation_fraction)"
            )
    ensemble = JudgeEnsemble([model for model, _ in loaded]).eval()
    categories = tuple(first["categories"])
    scenes_root = Path(first["scenes_root"])
    photos = first["validation_photos"]
    labelled = [(scenes_root / photo, categories.index(photo.split("/")[0])) for photo in photos]
    unreadable: list[tuple[str, str]] = []
    held_out = _read_photos(scenes_root, labelled, ensemble.image_size, unreadable)
    if unreadable:
        raise JudgeCheckpointError(f"held-out photo unreadable now: {unreadable[0][1]}")
    predictions = predict(ensemble, held_out.images).argmax(1)
    accuracy = float(np.mean(predictions == held_out.labels))
    per_category = per_category_accuracy(predictions, held_out.labels, categories)
    saved = {
        "format": ENSEMBLE_FORMAT,
        "members": [
            {"config": asdict(model.config), "model_state": model.state_dict()}
            for model in ensemble.members
        ],
        "member_accuracies": [info["validation_accuracy"] for _, info in loaded],
        "categories": list(categories),
        "validation_accuracy": accuracy,
        "validation_per_category": per_category,
        "validation_photos": photos,
        "train_photo_count": first["train_photo_count"],
        "skipped": first["skipped"],
        "scenes_root": first["scenes_root"],
        "train_seconds": sum(info["train_seconds"] for _, info in loaded),
        "split": first["split"],
    }
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / CHECKPOINT_FILE
    torch.save(saved, path)
    log.info(
        "judge ensemble of %d: held-out accuracy %.3f (members %s) %s; wrote %s",
        len(loaded),
        accuracy,
        [round(value, 3) for value in saved["member_accuracies"]],
        {name: round(value, 3) for name, value in per_category.items()},
        path,
    )
    return path


def export_judge(checkpoint: Path, out_path: Path, metadata_props: dict[str, str]) -> float:
    """Export a judge checkpoint to ONNX (input "image", outputs "logits", "features").

    `metadata_props` are the run's `ModelMetadata.to_props()`; the judge's own input size,
    feature size and held-out photo list replace image_size, feature_dim and training_data.
    Returns the max abs difference between ONNX Runtime and torch on a check batch.
    """
    from export.onnx_export import EXAMPLE_BATCH, check_against_torch, export_module
    from visualizer.model_files import ModelFileError, ModelMetadata

    model, info = load_judge(checkpoint)
    shared = ModelMetadata.from_props(metadata_props, str(out_path))
    if set(shared.categories) != set(info["categories"]):
        raise ModelFileError(
            f"{checkpoint}: judge categories {info['categories']} do not match the models' "
            f"{list(shared.categories)}"
        )
    size = judge_input_size(model)
    eval_figures = {
        "validation_accuracy": info["validation_accuracy"],
        "validation_per_category": info["validation_per_category"],
    }
    if "member_accuracies" in info:
        eval_figures["member_accuracies"] = info["member_accuracies"]
    metadata = ModelMetadata(
        frontend=shared.frontend,
        categories=tuple(info["categories"]),
        feature_dim=model.feature_dim,
        noise_dim=shared.noise_dim,
        image_size=size,
        model_version=shared.model_version,
        training_data={
            "scenes_root": info["scenes_root"],
            **info["split"],
            "validation_photos": info["validation_photos"],
            "train_photo_count": info["train_photo_count"],
        },
        eval_figures=eval_figures,
    )
    example = torch.rand(EXAMPLE_BATCH, 3, size, size) * 2 - 1
    export_module(
        model, (example,), ["image"], ["logits", "features"], out_path, metadata.to_props()
    )
    check = torch.rand(5, 3, size, size) * 2 - 1
    return check_against_torch(model, out_path, (check,))
