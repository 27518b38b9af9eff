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
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from training.checkpoint import LATEST, load_checkpoint
from training.config import GanStageConfig
from training.context import RunContext
from training.data import ImageBank, MusicBank, check_every_category
from training.distributed import wrap_model
from training.embedding import JointEmbedding, image_centroids
from training.models import Discriminator, Generator
from training.stage_loop import LoopHost, StageLoop
from training.weight_average import WeightAverage, recalibrate_batch_norm
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
    ctx: RunContext, embedding: JointEmbedding, music: MusicBank, device
) -> tuple[torch.Tensor, np.ndarray]:
    """Encoder features of `windows_per_track` random windows of every training track."""
    rng = np.random.default_rng([ctx.config.seed, 22])
    count = ctx.config.gan.windows_per_track
    features, labels = [], []
    for track in range(len(music)):
        windows = np.stack(
            [music.window(track, music.random_start(track, rng)) for _ in range(count)]
        )
        features.append(embedding.music(torch.from_numpy(windows).to(device)).cpu())
        labels += [music.labels[track]] * count
    return torch.cat(features), np.asarray(labels, dtype=np.int64)


def feature_centre(features: torch.Tensor, config: GanStageConfig) -> torch.Tensor:
    """[D]: the point the GAN's conditioning space is centred on: the mean of the condition
    bank (every training track contributes the same number of windows), or zero when
    `centre_features` is off."""
    if not config.centre_features:
        return torch.zeros(features.shape[1], dtype=features.dtype)
    return features.double().mean(dim=0).to(features.dtype)


def run_gan_stage(ctx: RunContext) -> Path:
    config = ctx.config.gan
    device = ctx.process.device
    categories = ctx.split.categories
    n_classes = len(categories)
    skipped = ctx.split.skipped
    embedding = load_embedding(ctx).to(device)
    music = MusicBank(ctx.split.train_tracks, ctx.cache, ctx.contract, skipped)
    check_every_category("training tracks", music.labels, categories)
    embed_images = ImageBank(ctx.split.train_images, ctx.config.embed.image.image_size, skipped)
    prototypes = image_centroids(embedding.image, embed_images, n_classes, device).cpu()
    features, feature_labels = condition_bank(ctx, embedding, music, device)
    del embedding
    centre = feature_centre(features, config)
    features, prototypes = features - centre, prototypes - centre
    log.info("gan: conditions centred on a mean feature of length %.3f", float(centre.norm()))
    images = ImageBank(ctx.split.train_images, config.generator.image_size, skipped)
    check_every_category("training images", images.labels, categories)
    features_of = [np.flatnonzero(feature_labels == c) for c in range(n_classes)]
    images_of = [images.of(c) for c in range(n_classes)]

    torch.manual_seed(ctx.config.seed + 2)
    generator = Generator(config.generator).to(device, memory_format=torch.channels_last)
    discriminator = Discriminator(config.discriminator, n_classes).to(
        device, memory_format=torch.channels_last
    )
    trained_g, trained_d = (
        wrap_model(generator, ctx.process),
        wrap_model(discriminator, ctx.process),
    )
    betas = (config.beta1, 0.999)
    optimizer_g = torch.optim.Adam(generator.parameters(), lr=config.learning_rate, betas=betas)
    optimizer_d = torch.optim.Adam(discriminator.parameters(), lr=config.learning_rate, betas=betas)
    average = WeightAverage(generator, config.ema_decay) if config.ema_decay > 0 else None
    progress = {"steps_done": 0}

    def conditions(labels: np.ndarray, rng: np.random.Generator) -> torch.Tensor:
        """A condition per label: a music feature, a prototype, a same-category mix or a
        cross-category mix still scored as the label, perturbed by `condition_noise`."""
        rows = []
        for label in labels:
            pool = features_of[label]
            feature = features[pool[rng.integers(len(pool))]]
            draw = rng.random()
            if draw < config.prototype_fraction:
                feature = prototypes[label]
            elif draw < config.prototype_fraction + config.interpolate_fraction:
                other = features[pool[rng.integers(len(pool))]]
                beta = float(rng.random())
                feature = beta * feature + (1.0 - beta) * other
            elif draw < (
                config.prototype_fraction + config.interpolate_fraction + config.cross_fraction
            ):
                feature = mix_across_categories(
                    feature, label, features, features_of, prototypes, rng
                )
            rows.append(perturb_condition(feature, config.condition_noise, rng))
        return torch.stack(rows).to(device)

    def step(rng: np.random.Generator) -> dict[str, float]:
        size = config.batch_size
        learning_rate = gan_learning_rate(config, progress["steps_done"])
        for optimizer in (optimizer_g, optimizer_d):
            for group in optimizer.param_groups:
                group["lr"] = learning_rate
        # Mode seeking pairs row i with row half + i: same music, other noise.
        paired, half = config.mode_seeking_weight > 0, size // 2
        labels = rng.integers(0, n_classes, size)
        if paired:
            labels[half : 2 * half] = labels[:half]
        chosen = np.asarray([images_of[c][rng.integers(len(images_of[c]))] for c in labels])
        real = torch.from_numpy(images.batch(chosen)).to(device)
        real = real.contiguous(memory_format=torch.channels_last)
        wrong_labels = (labels + rng.integers(1, n_classes, size)) % n_classes
        right = conditions(labels, rng)
        if paired:
            right[half : 2 * half] = right[:half]
        wrong = conditions(wrong_labels, rng)
        noise = torch.from_numpy(rng.standard_normal((size, config.generator.noise_dim)))
        noise = noise.float().to(device)
        ones = torch.ones(size, device=device)
        zeros = torch.zeros(size, device=device)
        trained_g.train()
        trained_d.train()

        categories_of = torch.from_numpy(labels).to(device)

        # ---- D step: real+matching music -> 1; real+mismatched music and fake -> 0 (GAN-CLS);
        # ---- the auxiliary head learns the category of real photos (AC-GAN)
        fake = trained_g(noise, right)
        match_real, category_real = trained_d(real, right)
        match_wrong, _ = trained_d(real, wrong)
        match_fake, _ = trained_d(fake.detach(), right)
        loss_real = F.binary_cross_entropy_with_logits(match_real, ones)
        loss_wrong = F.binary_cross_entropy_with_logits(match_wrong, zeros)
        loss_fake = F.binary_cross_entropy_with_logits(match_fake, zeros)
        loss_category_real = F.cross_entropy(category_real, categories_of)
        loss_d = loss_real + 0.5 * (loss_wrong + loss_fake)
        loss_d = loss_d + config.category_weight * loss_category_real
        optimizer_d.zero_grad(set_to_none=True)
        loss_d.backward()
        optimizer_d.step()

        # ---- G step: make D call the fake a real image matching its music, of its category
        match_fake, category_fake = trained_d(fake, right)
        loss_category_fake = F.cross_entropy(category_fake, categories_of)
        loss_g = F.binary_cross_entropy_with_logits(match_fake, ones)
        loss_g = loss_g + config.category_weight * loss_category_fake
        loss_mode = torch.zeros((), device=device)
        if paired:
            # ---- same music, other noise: the image must move with the noise (MSGAN)
            image_gap = (fake[:half] - fake[half : 2 * half]).abs().mean(dim=(1, 2, 3))
            noise_gap = (noise[:half] - noise[half : 2 * half]).abs().mean(dim=1)
            loss_mode = 1.0 / ((image_gap / noise_gap).mean() + 1e-5)
            loss_g = loss_g + config.mode_seeking_weight * loss_mode
        optimizer_g.zero_grad(set_to_none=True)
        loss_g.backward()
        optimizer_g.step()
        if average is not None:
            average.update(generator)
        progress["steps_done"] += 1
        return {
            "loss_d": float(loss_d.detach()),
            "loss_g": float(loss_g.detach()),
            "d_real": float(loss_real.detach()),
            "d_wrong": float(loss_wrong.detach()),
            "d_category_real": float(loss_category_real.detach()),
            "g_category_fake": float(loss_category_fake.detach()),
            "g_mode_seeking": float(loss_mode.detach()),
            "learning_rate": learning_rate,
        }

    grid_rng = np.random.default_rng([ctx.config.seed, 23])
    grid_noise = torch.from_numpy(
        grid_rng.standard_normal((n_classes * GRID_COLUMNS, config.generator.noise_dim))
    ).float()
    grid_features = torch.stack(
        [
            features[features_of[c][grid_rng.integers(len(features_of[c]))]]
            for c in range(n_classes)
            for _ in range(GRID_COLUMNS)
        ]
    )

    def calibration_batches(epoch: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Training-like (noise, condition) batches, the same for a resumed run."""
        rng = np.random.default_rng([ctx.config.seed, 24, epoch])
        batches = []
        for _ in range(config.ema_calibration_batches):
            labels = rng.integers(0, n_classes, CALIBRATION_BATCH)
            noise = rng.standard_normal((CALIBRATION_BATCH, config.generator.noise_dim))
            batches.append((torch.from_numpy(noise).float().to(device), conditions(labels, rng)))
        return batches

    @torch.no_grad()
    def end_epoch(epoch: int) -> dict[str, float]:
        drawing = generator
        if average is not None:
            recalibrate_batch_norm(average.model, calibration_batches(epoch))
            drawing = average.model
        drawing.eval()
        samples = drawing(grid_noise.to(device), grid_features.to(device)).cpu()
        generator.train()
        write_grid(samples, n_classes, ctx.stage_dir("gan") / f"samples_epoch_{epoch:03d}.png")
        return {}

    def state() -> dict:
        return {
            "generator": generator.state_dict(),
            "discriminator": discriminator.state_dict(),
            "optimizer_g": optimizer_g.state_dict(),
            "optimizer_d": optimizer_d.state_dict(),
            "generator_average": None if average is None else average.state_dict(),
            "feature_centre": centre,
        }

    def load(saved: dict) -> None:
        generator.load_state_dict(saved["generator"])
        discriminator.load_state_dict(saved["discriminator"])
        optimizer_g.load_state_dict(saved["optimizer_g"])
        optimizer_d.load_state_dict(saved["optimizer_d"])
        progress["steps_done"] = saved["epoch"] * config.steps_per_epoch + saved["step"]
        if average is not None:
            if saved.get("generator_average") is None:
                log.warning("gan: the checkpoint has no weight average; starting one now")
                average.restart_from(generator)
            else:
                average.load_state_dict(saved["generator_average"])

    loop = StageLoop(
        LoopHost.for_run(ctx, "gan"),
        config.epochs,
        config.steps_per_epoch,
        step,
        state,
        load,
        end_epoch,
    )
    return loop.run()


def write_grid(samples: torch.Tensor, rows: int, path: Path) -> None:
    """Save [rows * cols, 3, S, S] images in [-1, 1] as one PNG, one row per category."""
    count, _, size, _ = samples.shape
    cols = count // rows
    pixels = to_uint8(samples.permute(0, 2, 3, 1).numpy())
    grid = pixels.reshape(rows, cols, size, size, 3).transpose(0, 2, 1, 3, 4)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(grid.reshape(rows * size, cols * size, 3)).save(path)
