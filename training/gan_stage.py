"""Stage 2: the conditional DCGAN (GAN-CLS) on music features from the trained encoder.

Conditioning (class-level pairing, as the paper): a real image of category c is paired
with the frozen encoder's feature of a window from a training track of category c. Some
conditions are replaced by the category's image-embedding prototype (the point the
embedding pulls music of c towards), some interpolate two features of c (GAN-INT) and
some (`cross_fraction`) mix a feature of c with one of another category as long as the
category scores still name c, so G sees the region of the joint space that retrieval
calls c, not only the exact training windows; at run time unseen music lands somewhere in
that region, often near a border. With
`centre_features` every condition is first centred on the training music's mean feature
(saved in each checkpoint as "feature_centre"; export bakes it into the music encoder).

G's weights are averaged over steps (`ema_decay`); the average draws the sample grids and
is what export writes. The learning rates can fall linearly over the last epochs.

With `generator.attribute_dim` 4, G is also asked for picture attributes (mean L*, C*, b*
and the contrast of L*; visualizer/picture_attributes.py) in z-units of the training
photos' stats: in training, those of each row's real photo, and it is penalised by
`attribute_weight` times the squared error between what it drew and what it was asked.
The stats are saved in each checkpoint ("attribute_stats"); export writes them into the
generator's metadata.

With `diff_augment` every image D sees, real or fake, in D's step and in G's, first goes
through the same kind of random differentiable transform (training/image_augment.py), so D
cannot memorise the few thousand photos.

With `r1_weight` D is also penalised, every `r1_every` steps, for the squared gradient of its
match logit on the real images it sees (R1); the logged `d_r1` is that penalty averaged over
all of the epoch's steps, the ones without it counting as 0.

With `lecam_weight` D is also penalised for match logits on real images above the moving
average of its logits on fakes, and on fakes below the average on real images (LeCam,
`lecam_penalty`); the two averages are saved in each checkpoint ("lecam_anchors").

With `encoder_onnx` the conditions come from an exported music encoder instead of the
run's embed stage: its (already centred) features of windows of the training tracks its
metadata lists, and its metadata's category prototypes (see `onnx_condition_source`).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from training.checkpoint import LATEST, load_checkpoint
from training.config import GanStageConfig, TrainConfig
from training.context import RunContext
from training.data import ImageBank, MusicBank, check_every_category
from training.distributed import wrap_model
from training.embedding import JointEmbedding, image_centroids
from training.gan_growth import (
    GrowthError,
    check_growable,
    generator_from_onnx,
    grow_discriminator,
    grow_generator,
)
from training.image_augment import diff_augment
from training.models import Discriminator, Generator
from training.picture_attributes import attributes_in_z
from training.spectrum import (
    EPSILON,
    luma_second_differences,
    photo_spectrum_profile,
    photo_streak_power,
    spectrum_loss,
    streak_penalty,
)
from training.stage_loop import LoopHost, StageLoop
from training.weight_average import WeightAverage, recalibrate_batch_norm
from visualizer.metrics import checkerboard_ratio, shared_streak_share, streak_ratios
from visualizer.picture_attributes import AttributeStats, category_request, measure_attributes
from visualizer.pixels import to_uint8

log = logging.getLogger(__name__)

GRID_COLUMNS = 8
CALIBRATION_BATCH = 64


def perturb_condition(
    feature: torch.Tensor, strength: float, rng: np.random.Generator
) -> torch.Tensor:
    """`feature` moved in a uniformly random direction by a uniform share in [0, strength]
    of its own length."""
    if strength == 0:
        return feature
    direction = torch.from_numpy(rng.standard_normal(feature.shape[-1])).to(feature)
    step = float(rng.uniform(0.0, strength)) * feature.norm() / direction.norm()
    return feature + step * direction


def mix_across_categories(
    feature: torch.Tensor,
    label: int,
    features: torch.Tensor,
    features_of: list[np.ndarray],
    prototypes: torch.Tensor,
    rng: np.random.Generator,
    tries: int = 8,
) -> torch.Tensor:
    """`feature` (of category `label`) mixed with a feature of another category at a uniform
    share, such that the category scores (`prototypes` [C, D]) still give the mix to
    `label`; after `tries` mixes scored elsewhere, `feature` itself."""
    others = [c for c in range(len(features_of)) if c != label]
    for _ in range(tries):
        other = others[rng.integers(len(others))]
        pool = features_of[other]
        share = float(rng.random())
        mix = (1.0 - share) * feature + share * features[pool[rng.integers(len(pool))]]
        if int(torch.argmax(prototypes @ mix)) == label:
            return mix
    return feature


def r1_penalty(match: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    """E over the batch of ||d match_i / d image_i||^2 (R1, Mescheder et al. 2018): `match`
    [B] computed from `images` [B, 3, S, S], which must require grad. The graph is kept, so
    D can be trained on the penalty."""
    (gradient,) = torch.autograd.grad(match.sum(), images, create_graph=True)
    return gradient.square().sum(dim=(1, 2, 3)).mean()


def fixed_pattern_penalty(images: torch.Tensor) -> torch.Tensor:
    """How much of a batch's fine detail is one pattern at the same pixels in every picture:
    the power of the batch mean of the pictures' luma second differences (along the rows
    and down the columns) over their mean power. `images` [B, 3, S, S] -> a scalar, about
    1/B for independent pictures (photos) and 1 for identical ones. G's streaks at 128 px
    were such a pattern, tied to position (model card)."""
    across, down = luma_second_differences(images)  # [B, S, S-2], [B, S-2, S]
    shared = across.mean(dim=0).square().mean() + down.mean(dim=0).square().mean()
    return shared / (across.square().mean() + down.square().mean() + EPSILON)


def lecam_penalty(
    match_real: torch.Tensor, match_fake: torch.Tensor, anchors: torch.Tensor
) -> torch.Tensor:
    """LeCam (Tseng et al. 2021): E relu(real logit - fake anchor)^2 + E relu(real anchor -
    fake logit)^2, `match_real` [B] and `match_fake` [B] D's logits, `anchors` [2] the moving
    averages of its logits on real images and on fakes."""
    anchor_real, anchor_fake = anchors[0], anchors[1]
    return (
        F.relu(match_real - anchor_fake).square().mean()
        + F.relu(anchor_real - match_fake).square().mean()
    )


def gan_learning_rate(config: GanStageConfig, steps_done: int) -> float:
    """The learning rate for the step after `steps_done` steps: constant, then, over the last
    `lr_decay_epochs` epochs, falling linearly to 1/(decay steps + 1) of it at the last step."""
    total = config.epochs * config.steps_per_epoch
    decay_steps = config.lr_decay_epochs * config.steps_per_epoch
    remaining = total - steps_done
    if decay_steps == 0 or remaining > decay_steps:
        return config.learning_rate
    return config.learning_rate * max(remaining, 1) / (decay_steps + 1)


class StageOrderError(RuntimeError):
    """A stage needs an earlier stage's finished output."""


def load_embedding(ctx: RunContext) -> JointEmbedding:
    path = ctx.stage_dir("embed") / LATEST
    if not path.exists():
        raise StageOrderError(f"the gan stage needs a trained embedding: {path} is missing")
    saved = load_checkpoint(path, "embed")
    model = JointEmbedding(ctx.config.embed)
    model.load_state_dict(saved["model"])
    return model.eval()


@torch.no_grad()
def condition_bank(
    ctx: RunContext, music: MusicBank, encode: Callable[[np.ndarray], torch.Tensor]
) -> tuple[torch.Tensor, np.ndarray]:
    """Features of `windows_per_track` random windows of every track of `music`, by `encode`
    (windows [n, 2, bins, frames] -> features [n, D] on the CPU): ([N, D], labels [N])."""
    rng = np.random.default_rng([ctx.config.seed, 22])
    count = ctx.config.gan.windows_per_track
    features, labels = [], []
    for track in range(len(music)):
        windows = np.stack(
            [music.window(track, music.random_start(track, rng)) for _ in range(count)]
        )
        features.append(encode(windows))
        labels += [music.labels[track]] * count
    return torch.cat(features), np.asarray(labels, dtype=np.int64)


def feature_centre(features: torch.Tensor, config: GanStageConfig) -> torch.Tensor:
    """[D]: the point the GAN's conditioning space is centred on: the mean of the condition
    bank (every training track contributes the same number of windows), or zero when
    `centre_features` is off."""
    if not config.centre_features:
        return torch.zeros(features.shape[1], dtype=features.dtype)
    return features.double().mean(dim=0).to(features.dtype)


class ConditionSampler:
    """Draws the generator's conditions: per label a music feature of that category, a
    prototype, a same-category mix or a cross-category mix still scored as the label,
    perturbed by `condition_noise` (see the module docstring)."""

    def __init__(
        self,
        features: torch.Tensor,
        feature_labels: np.ndarray,
        prototypes: torch.Tensor,
        config: GanStageConfig,
        device,
    ):
        self.features, self.prototypes = features, prototypes
        self.features_of = [np.flatnonzero(feature_labels == c) for c in range(len(prototypes))]
        self.config, self.device = config, device

    def draw(self, labels: np.ndarray, rng: np.random.Generator) -> torch.Tensor:
        config, features = self.config, self.features
        rows = []
        for label in labels:
            pool = self.features_of[label]
            feature = features[pool[rng.integers(len(pool))]]
            draw = rng.random()
            if draw < config.prototype_fraction:
                feature = self.prototypes[label]
            elif draw < config.prototype_fraction + config.interpolate_fraction:
                other = features[pool[rng.integers(len(pool))]]
                beta = float(rng.random())
                feature = beta * feature + (1.0 - beta) * other
            elif draw < (
                config.prototype_fraction + config.interpolate_fraction + config.cross_fraction
            ):
                feature = mix_across_categories(
                    feature, label, features, self.features_of, self.prototypes, rng
                )
            rows.append(perturb_condition(feature, config.condition_noise, rng))
        return torch.stack(rows).to(self.device)

    def grid(self, rng: np.random.Generator) -> torch.Tensor:
        """[C * GRID_COLUMNS, D]: random training features, one row of the grid a category."""
        return torch.stack(
            [
                self.features[pool[rng.integers(len(pool))]]
                for pool in self.features_of
                for _ in range(GRID_COLUMNS)
            ]
        )


@dataclass
class GanBatch:
    real: torch.Tensor  # [B, 3, S, S] photos of `categories`
    right: torch.Tensor  # [B, D] conditions of the photos' categories
    wrong: torch.Tensor  # [B, D] conditions of other categories
    noise: torch.Tensor  # [B, noise_dim]
    categories: torch.Tensor  # [B] category indices
    paired: int  # rows i and paired + i share their music (mode seeking); 0: none
    asked: torch.Tensor | None = None  # [B, 4] attributes G is asked for (z-units); None: off


def photo_attribute_stats(images: ImageBank, n_classes: int) -> tuple[AttributeStats, np.ndarray]:
    """(the stats of the photos' attributes, every photo's attributes in z-units [N, 4])."""
    raw = np.concatenate(
        [
            measure_attributes(images.pixels[start : start + 512] / 255.0)
            for start in range(0, len(images), 512)
        ]
    )
    stats = AttributeStats.from_measurements(raw, images.labels, n_classes)
    return stats, stats.to_z(raw).astype(np.float32)


class GanTrainer:
    """G and D, their optimisers and G's weight average, trained one step at a time."""

    def __init__(
        self,
        ctx: RunContext,
        images: ImageBank,
        conditions: ConditionSampler,
        centre: torch.Tensor,
    ):
        self.config = config = ctx.config.gan
        self.device = device = ctx.process.device
        self.n_classes = len(ctx.split.categories)
        self.images, self.conditions, self.centre = images, conditions, centre
        self.images_of = [images.of(c) for c in range(self.n_classes)]
        torch.manual_seed(ctx.config.seed + 2)
        self.generator = Generator(config.generator).to(device, memory_format=torch.channels_last)
        self.discriminator = Discriminator(config.discriminator, self.n_classes).to(
            device, memory_format=torch.channels_last
        )
        self.trained_g = wrap_model(self.generator, ctx.process)
        self.trained_d = wrap_model(self.discriminator, ctx.process)
        betas = (config.beta1, 0.999)
        self.optimizer_g = torch.optim.Adam(
            self.generator.parameters(), lr=config.learning_rate, betas=betas
        )
        self.optimizer_d = torch.optim.Adam(
            self.discriminator.parameters(),
            lr=config.learning_rate * config.discriminator_lr_scale,
            betas=betas,
        )
        self.average = (
            WeightAverage(self.generator, config.ema_decay) if config.ema_decay > 0 else None
        )
        self.steps_done = 0
        # moving averages of D's match logits on real images and on fakes (LeCam) [2]
        self.lecam_anchors = torch.zeros(2, device=device)
        self.seed = ctx.config.seed
        self.samples_dir = ctx.stage_dir("gan")
        grid_rng = np.random.default_rng([self.seed, 23])
        self.grid_noise = torch.from_numpy(
            grid_rng.standard_normal((self.n_classes * GRID_COLUMNS, config.generator.noise_dim))
        ).float()
        self.grid_features = conditions.grid(grid_rng)
        self.photo_spectrum = None
        if config.spectrum_weight > 0:
            self.photo_spectrum = photo_spectrum_profile(images.pixels).to(device)  # [R]
        self.photo_streaks = None
        if config.streak_weight > 0:
            self.photo_streaks = photo_streak_power(images.pixels).to(device)  # [2]
        self.attribute_stats: AttributeStats | None = None
        self.grid_attributes = None
        if config.generator.attribute_dim:
            # Every photo's attributes in z-units [N, 4]; the grid asks each row for the
            # typical light of its category.
            self.attribute_stats, photo_z = photo_attribute_stats(images, self.n_classes)
            self.photo_attributes = torch.from_numpy(photo_z)
            stats = self.attribute_stats
            self.attribute_mean = torch.tensor(stats.mean, dtype=torch.float32, device=device)
            self.attribute_spread = torch.tensor(stats.spread, dtype=torch.float32, device=device)
            typical = category_request(np.eye(self.n_classes), stats)  # [C, 4]
            self.grid_attributes = torch.from_numpy(
                np.repeat(typical, GRID_COLUMNS, axis=0)
            ).float()
            log.info(
                "gan: photo attributes %s: mean %s, spread %s",
                ", ".join(stats.names),
                np.round(stats.mean, 2).tolist(),
                np.round(stats.spread, 2).tolist(),
            )

    def generate(self, model, noise, feature, attributes) -> torch.Tensor:
        """model(noise, feature[, attributes]) -> [B, 3, S, S]."""
        if attributes is None:
            return model(noise, feature)
        return model(noise, feature, attributes)

    def step(self, rng: np.random.Generator) -> dict[str, float]:
        learning_rate = gan_learning_rate(self.config, self.steps_done)
        for optimizer, scale in (
            (self.optimizer_g, 1.0),
            (self.optimizer_d, self.config.discriminator_lr_scale),
        ):
            for group in optimizer.param_groups:
                group["lr"] = learning_rate * scale
        batch = self.draw_batch(rng)
        self.trained_g.train()
        self.trained_d.train()
        warmup_steps = self.config.discriminator_warmup_epochs * self.config.steps_per_epoch
        g_learns = self.steps_done >= warmup_steps
        with torch.set_grad_enabled(g_learns):
            fake = self.generate(self.trained_g, batch.noise, batch.right, batch.asked)  # [B,3,S,S]
        figures = self.discriminator_step(batch, fake, rng)
        if g_learns:
            figures |= self.generator_step(batch, fake, rng)
            if self.average is not None:
                self.average.update(self.generator)
        self.steps_done += 1
        return {**figures, "learning_rate": learning_rate}

    def draw_batch(self, rng: np.random.Generator) -> GanBatch:
        config, size, n_classes = self.config, self.config.batch_size, self.n_classes
        # Mode seeking pairs row i with row half + i: same music, other noise.
        half = size // 2 if config.mode_seeking_weight > 0 else 0
        labels = rng.integers(0, n_classes, size)
        labels[half : 2 * half] = labels[:half]
        chosen = np.asarray(
            [self.images_of[c][rng.integers(len(self.images_of[c]))] for c in labels]
        )
        real = torch.from_numpy(self.images.batch(chosen)).to(self.device)
        wrong_labels = (labels + rng.integers(1, n_classes, size)) % n_classes
        right = self.conditions.draw(labels, rng)
        right[half : 2 * half] = right[:half]
        wrong = self.conditions.draw(wrong_labels, rng)
        noise = torch.from_numpy(rng.standard_normal((size, config.generator.noise_dim)))
        asked = None
        if self.attribute_stats is not None:
            # G is asked for its row's real photo's light and colour; paired rows (mode
            # seeking) ask the same as their partner, so only the noise differs between them.
            asked = self.photo_attributes[chosen].clone()  # [B, 4] z-units
            asked[half : 2 * half] = asked[:half]
            asked = asked.to(self.device)
        return GanBatch(
            real=real.contiguous(memory_format=torch.channels_last),
            right=right,
            wrong=wrong,
            noise=noise.float().to(self.device),
            categories=torch.from_numpy(labels).to(self.device),
            paired=half,
            asked=asked,
        )

    def augment(self, images: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
        """What D sees of `images` [B, 3, S, S]: DiffAugment by `diff_augment` (or as is)."""
        return diff_augment(images, self.config.diff_augment, rng)

    def discriminator_step(
        self, batch: GanBatch, fake: torch.Tensor, rng: np.random.Generator
    ) -> dict[str, float]:
        """Real + matching music -> 1; real + mismatched music and fake -> 0 (GAN-CLS); the
        auxiliary head learns the category of real photos (AC-GAN)."""
        d, config = self.trained_d, self.config
        real_seen = self.augment(batch.real, rng)  # [B, 3, S, S]
        # Lazy R1 (Mescheder et al. 2018): every `r1_every` steps, penalise the gradient of
        # D's match logit on real images, scaled by the interval.
        penalise = config.r1_weight > 0 and self.steps_done % config.r1_every == 0
        if penalise:
            real_seen = real_seen.detach().requires_grad_(True)
        match_real, category_real = d(real_seen, batch.right)
        match_wrong, _ = d(self.augment(batch.real, rng), batch.wrong)
        match_fake, _ = d(self.augment(fake.detach(), rng), batch.right)
        loss_real = F.binary_cross_entropy_with_logits(match_real, torch.ones_like(match_real))
        loss_wrong = F.binary_cross_entropy_with_logits(match_wrong, torch.zeros_like(match_wrong))
        loss_fake = F.binary_cross_entropy_with_logits(match_fake, torch.zeros_like(match_fake))
        loss_category_real = F.cross_entropy(category_real, batch.categories)
        loss_d = loss_real + 0.5 * (loss_wrong + loss_fake)
        loss_d = loss_d + config.category_weight * loss_category_real
        penalty = torch.zeros((), device=self.device)
        if penalise:
            penalty = r1_penalty(match_real, real_seen)
            loss_d = loss_d + 0.5 * config.r1_weight * config.r1_every * penalty
        lecam = torch.zeros((), device=self.device)
        if config.lecam_weight > 0:
            means = torch.stack([match_real.mean(), match_fake.mean()]).detach()  # [2]
            self.lecam_anchors.lerp_(means, 1.0 - config.lecam_decay)
            lecam = lecam_penalty(match_real, match_fake, self.lecam_anchors)
            loss_d = loss_d + config.lecam_weight * lecam
        self.optimizer_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.optimizer_d.step()
        return {
            "loss_d": float(loss_d.detach()),
            "d_real": float(loss_real.detach()),
            "d_wrong": float(loss_wrong.detach()),
            "d_category_real": float(loss_category_real.detach()),
            "d_r1": float(penalty.detach()),
            "d_lecam": float(lecam.detach()),
        }

    def generator_step(
        self, batch: GanBatch, fake: torch.Tensor, rng: np.random.Generator
    ) -> dict[str, float]:
        """Make D call the fake a real image matching its music, of its category; with mode
        seeking, the image must move with the noise for the same music (MSGAN); with
        attributes, the image must have the light and colour G was asked for; with the
        spectral term, the batch must have the photos' power spectrum; with the fixed-pattern
        term, its pictures must not share fine detail at the same pixels; with the streak
        term, its detail must not line up down columns or along rows more than photos'."""
        config = self.config
        match_fake, category_fake = self.trained_d(self.augment(fake, rng), batch.right)
        loss_category_fake = F.cross_entropy(category_fake, batch.categories)
        loss_g = F.binary_cross_entropy_with_logits(match_fake, torch.ones_like(match_fake))
        loss_g = loss_g + config.category_weight * loss_category_fake
        loss_mode = torch.zeros((), device=self.device)
        half = batch.paired
        if half:
            image_gap = (fake[:half] - fake[half : 2 * half]).abs().mean(dim=(1, 2, 3))  # [H]
            noise_gap = (batch.noise[:half] - batch.noise[half : 2 * half]).abs().mean(dim=1)
            loss_mode = 1.0 / ((image_gap / noise_gap).mean() + 1e-5)
            loss_g = loss_g + config.mode_seeking_weight * loss_mode
        loss_attributes = torch.zeros((), device=self.device)
        if batch.asked is not None:
            drawn = attributes_in_z(fake, self.attribute_mean, self.attribute_spread)  # [B, 4]
            loss_attributes = F.mse_loss(drawn, batch.asked)
            loss_g = loss_g + config.attribute_weight * loss_attributes
        loss_spectrum = torch.zeros((), device=self.device)
        if self.photo_spectrum is not None:
            loss_spectrum = spectrum_loss(fake, self.photo_spectrum)
            loss_g = loss_g + config.spectrum_weight * loss_spectrum
        loss_fixed_pattern = torch.zeros((), device=self.device)
        if config.fixed_pattern_weight:
            loss_fixed_pattern = fixed_pattern_penalty(fake)
            loss_g = loss_g + config.fixed_pattern_weight * loss_fixed_pattern
        loss_streaks = torch.zeros((), device=self.device)
        if self.photo_streaks is not None:
            loss_streaks = streak_penalty(fake, self.photo_streaks)
            loss_g = loss_g + config.streak_weight * loss_streaks
        self.optimizer_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.optimizer_g.step()
        return {
            "loss_g": float(loss_g.detach()),
            "g_category_fake": float(loss_category_fake.detach()),
            "g_mode_seeking": float(loss_mode.detach()),
            "g_attributes": float(loss_attributes.detach()),
            "g_spectrum": float(loss_spectrum.detach()),
            "g_fixed_pattern": float(loss_fixed_pattern.detach()),
            "g_streaks": float(loss_streaks.detach()),
        }

    def calibration_batches(self, epoch: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Training-like (noise, condition) batches, the same for a resumed run."""
        rng = np.random.default_rng([self.seed, 24, epoch])
        noise_dim = self.config.generator.noise_dim
        batches = []
        for _ in range(self.config.ema_calibration_batches):
            labels = rng.integers(0, self.n_classes, CALIBRATION_BATCH)
            noise = rng.standard_normal((CALIBRATION_BATCH, noise_dim))
            noise = torch.from_numpy(noise).float().to(self.device)
            if self.attribute_stats is not None:
                # the attributes of random photos of each row's category, as in training
                photos = [self.images_of[c][rng.integers(len(self.images_of[c]))] for c in labels]
                asked = self.photo_attributes[np.asarray(photos)].to(self.device)
                batches.append((noise, self.conditions.draw(labels, rng), asked))
                continue
            batches.append((noise, self.conditions.draw(labels, rng)))
        return batches

    @torch.no_grad()
    def end_epoch(self, epoch: int) -> dict[str, float]:
        """Re-measure the average's BatchNorm statistics, draw the sample grid with it, and
        measure the grid's pictures (`sample_figures`)."""
        drawing = self.generator
        if self.average is not None:
            recalibrate_batch_norm(self.average.model, self.calibration_batches(epoch))
            drawing = self.average.model
        drawing.eval()
        grid_attributes = None
        if self.grid_attributes is not None:
            grid_attributes = self.grid_attributes.to(self.device)
        samples = self.generate(
            drawing,
            self.grid_noise.to(self.device),
            self.grid_features.to(self.device),
            grid_attributes,
        )
        self.generator.train()
        pixels = write_grid(
            samples.cpu(), self.n_classes, self.samples_dir / f"samples_epoch_{epoch:03d}.png"
        )
        return sample_figures(pixels)

    def state(self) -> dict:
        return {
            "generator": self.generator.state_dict(),
            "discriminator": self.discriminator.state_dict(),
            "optimizer_g": self.optimizer_g.state_dict(),
            "optimizer_d": self.optimizer_d.state_dict(),
            "generator_average": None if self.average is None else self.average.state_dict(),
            "feature_centre": self.centre,
            "lecam_anchors": self.lecam_anchors,
            "attribute_stats": (
                None if self.attribute_stats is None else self.attribute_stats.to_dict()
            ),
        }

    def grow(self, path: Path) -> None:
        """Start G and D from the gan checkpoint `path` of a run at half this size, grown
        without changing what they compute (training/gan_growth.py); G from its weight
        average when it has one. From an exported generator.onnx, G grows from the file's G
        and D keeps its random weights (a file at this size gives G as it is). The optimisers
        start afresh."""
        if path.suffix == ".onnx":
            self.start_generator_from_onnx(path)
            return
        saved = load_checkpoint(path, "gan")
        small = TrainConfig.from_dict(saved["config"]).gan
        check_growable(
            small.generator, small.discriminator, self.config.generator,
            self.config.discriminator, path,
        )  # fmt: skip
        average = saved.get("generator_average")
        small_g = saved["generator"] if average is None else average["model"]
        calibration = self.calibration_batches(0)
        grow_generator(small_g, small.generator, self.generator, calibration)
        rng = np.random.default_rng([self.seed, 25])
        photos = [
            self.images.batch(rng.integers(0, len(self.images), CALIBRATION_BATCH))
            for _ in calibration
        ]
        grow_discriminator(
            saved["discriminator"],
            small.discriminator,
            self.n_classes,
            self.discriminator,
            [
                (torch.from_numpy(pixels).to(self.device), batch[1])
                for pixels, batch in zip(photos, calibration, strict=True)
            ],
        )
        if self.average is not None:
            self.average.restart_from(self.generator)
        log.info("gan: G and D grown from %s (epoch %d)", path, saved["epoch"])

    def start_generator_from_onnx(self, path: Path) -> None:
        """G from the exported generator.onnx `path`: grown when the file is at half this
        run's size, as it is when at this size (the same G config but the export-time
        output filter); D keeps its random weights."""
        calibration = self.calibration_batches(0)
        file_config, file_g = generator_from_onnx(path, calibration)
        run_config = self.config.generator
        if file_config.image_size == run_config.image_size:
            if file_config != dataclasses.replace(run_config, output_filter="none"):
                raise GrowthError(
                    f"{path}: its generator ({file_config}) is not this run's ({run_config})"
                )
            self.generator.load_state_dict(file_g)
            how = "taken as it is"
        else:
            check_growable(file_config, None, run_config, self.config.discriminator, path)
            grow_generator(file_g, file_config, self.generator, calibration)
            how = "grown"
        if self.average is not None:
            self.average.restart_from(self.generator)
        log.info("gan: G %s from the exported %s; D from random weights", how, path)

    def load(self, saved: dict) -> None:
        self.generator.load_state_dict(saved["generator"])
        self.discriminator.load_state_dict(saved["discriminator"])
        self.optimizer_g.load_state_dict(saved["optimizer_g"])
        self.optimizer_d.load_state_dict(saved["optimizer_d"])
        self.steps_done = saved["epoch"] * self.config.steps_per_epoch + saved["step"]
        if saved.get("lecam_anchors") is not None:
            self.lecam_anchors.copy_(saved["lecam_anchors"])
        if self.average is not None:
            if saved.get("generator_average") is None:
                log.warning("gan: the checkpoint has no weight average; starting one now")
                self.average.restart_from(self.generator)
            else:
                self.average.load_state_dict(saved["generator_average"])


def encoder_onnx_path(ctx: RunContext) -> Path:
    """The exported music encoder `gan.encoder_onnx` names: as given when absolute or
    present, else under the data root."""
    given = Path(ctx.config.gan.encoder_onnx)
    if given.is_absolute() or given.exists():
        return given
    return ctx.data_root / given


def encoder_training_tracks(metadata, data_root: Path, source: str) -> list[tuple[Path, int]]:
    """The (path, label) training tracks an exported encoder's metadata lists
    (`training_data.train_tracks`, "<folder>/<category>/<file>" under the data root)."""
    listed = metadata.training_data.get("train_tracks")
    if not isinstance(listed, list) or not listed:
        raise StageOrderError(f"{source}: its metadata lists no training_data.train_tracks")
    tracks = []
    for relative in listed:
        category = Path(str(relative)).parent.name
        if category not in metadata.categories:
            raise StageOrderError(
                f"{source}: training track {relative} is in no category of "
                f"{list(metadata.categories)}"
            )
        tracks.append((data_root / str(relative), metadata.categories.index(category)))
    return tracks


def onnx_condition_source(
    ctx: RunContext,
) -> tuple[torch.Tensor, np.ndarray, torch.Tensor]:
    """(features [N, D], their labels [N], prototypes [C, D]) from the exported music
    encoder `gan.encoder_onnx`: its "feature" output (already centred by its export) of
    `windows_per_track` random windows of each training track its metadata lists (so the
    split is exactly the encoder's), and its metadata's category prototypes."""
    from visualizer.model_files import ModelFileError
    from visualizer.model_sessions import check_encoder, open_model

    path = encoder_onnx_path(ctx)
    try:
        encoder = open_model(path, threads=1)
        check_encoder(encoder)
    except ModelFileError as error:
        raise StageOrderError(f"gan.encoder_onnx: {error}") from error
    meta = encoder.metadata
    if tuple(meta.categories) != tuple(ctx.split.categories):
        raise StageOrderError(
            f"{path}: categories {list(meta.categories)} differ from the data's "
            f"{list(ctx.split.categories)}"
        )
    if meta.frontend != ctx.contract:
        raise StageOrderError(f"{path}: its front-end contract differs from the run's")
    if not meta.category_prototypes:
        raise StageOrderError(f"{path}: its metadata has no category_prototypes")
    tracks = encoder_training_tracks(meta, ctx.data_root, str(path))
    music = MusicBank(tracks, ctx.cache, ctx.contract, ctx.split.skipped)
    check_every_category("training tracks", music.labels, ctx.split.categories)
    log.info("gan: conditions from %s on its %d training tracks", path, len(music))

    def encode(windows: np.ndarray) -> torch.Tensor:
        (feature,) = encoder.run(["feature"], {"window": windows})
        return torch.from_numpy(np.asarray(feature, dtype=np.float32))

    features, labels = condition_bank(ctx, music, encode)
    prototypes = torch.tensor(meta.category_prototypes, dtype=torch.float32)
    return features, labels, prototypes


def embedding_condition_source(
    ctx: RunContext,
) -> tuple[torch.Tensor, np.ndarray, torch.Tensor]:
    """(features [N, D], their labels [N], prototypes [C, D]) from the run's trained
    embedding: features of the training tracks and the training photos' centroids."""
    device = ctx.process.device
    categories = ctx.split.categories
    skipped = ctx.split.skipped
    embedding = load_embedding(ctx).to(device)
    music = MusicBank(ctx.split.train_tracks, ctx.cache, ctx.contract, skipped)
    check_every_category("training tracks", music.labels, categories)
    embed_images = ImageBank(ctx.split.train_images, ctx.config.embed.image.image_size, skipped)
    prototypes = image_centroids(embedding.image, embed_images, len(categories), device).cpu()
    features, feature_labels = condition_bank(
        ctx, music, lambda windows: embedding.music(torch.from_numpy(windows).to(device)).cpu()
    )
    return features, feature_labels, prototypes


def run_gan_stage(ctx: RunContext) -> Path:
    """Train G and D on photos of the training split and conditions from the trained
    encoder's features of the training tracks (or the exported encoder's, with
    `encoder_onnx`); returns the latest checkpoint."""
    config = ctx.config.gan
    device = ctx.process.device
    categories = ctx.split.categories
    skipped = ctx.split.skipped
    if config.encoder_onnx:
        # The exported encoder's features are centred already: nothing more to centre.
        features, feature_labels, prototypes = onnx_condition_source(ctx)
        centre = torch.zeros(features.shape[1], dtype=features.dtype)
    else:
        features, feature_labels, prototypes = embedding_condition_source(ctx)
        centre = feature_centre(features, config)
    log.info("gan: conditions centred on a mean feature of length %.3f", float(centre.norm()))
    conditions = ConditionSampler(
        features - centre, feature_labels, prototypes - centre, config, device
    )
    images = ImageBank(ctx.split.train_images, config.generator.image_size, skipped)
    check_every_category("training images", images.labels, categories)

    trainer = GanTrainer(ctx, images, conditions, centre)
    if config.grow_from and not (ctx.stage_dir("gan") / LATEST).exists():
        trainer.grow(Path(config.grow_from))
    loop = StageLoop(
        LoopHost.for_run(ctx, "gan"),
        config.epochs,
        config.steps_per_epoch,
        trainer.step,
        trainer.state,
        trainer.load,
        trainer.end_epoch,
    )
    return loop.run()


def write_grid(samples: torch.Tensor, rows: int, path: Path) -> np.ndarray:
    """Save [rows * cols, 3, S, S] images in [-1, 1] as one PNG, one row per category;
    returns the pictures as written, uint8 [rows * cols, S, S, 3]."""
    count, _, size, _ = samples.shape
    cols = count // rows
    pixels = to_uint8(samples.permute(0, 2, 3, 1).numpy())
    grid = pixels.reshape(rows, cols, size, size, 3).transpose(0, 2, 1, 3, 4)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(grid.reshape(rows * size, cols * size, 3)).save(path)
    return pixels


def sample_figures(pixels: np.ndarray) -> dict[str, float]:
    """The checkerboard and streak figures `musicscape eval` reports, of the sample grid's
    pictures (uint8 [N, S, S, 3], as written), and how much of the vertical streaks is one
    pattern at the same columns in every picture (`shared_streak_share`): logged every
    epoch, so a run shows the epoch its pictures start to stripe. The grid draws the same
    noise and music every epoch, so the figures compare across epochs; with its few
    pictures they are rougher than eval's."""
    images = pixels.transpose(0, 3, 1, 2)  # [N, 3, S, S]
    vertical, horizontal = streak_ratios(images)
    return {
        "sample_checkerboard": checkerboard_ratio(images),
        "sample_streaks_vertical": vertical,
        "sample_streaks_horizontal": horizontal,
        "sample_streaks_shared": shared_streak_share(images),
    }
