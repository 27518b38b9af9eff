"""The judge's configuration."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from visualizer.frontend.records import from_dict

OPTIMIZERS = ("adamw", "sgd")


@dataclass
class JudgeConfig:
    # Photos are held out by visualizer.photos.split_photos, the same for every stage.
    RETIRED_KEYS: ClassVar[tuple[str, ...]] = ("validation_fraction",)

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
        return from_dict(cls, values)
