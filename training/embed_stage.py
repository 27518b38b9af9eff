"""Stage 1: train the music and image encoders into one space (DS-SJE or InfoNCE)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch

from training.augment import augment_windows
from training.checkpoint import CheckpointError, load_checkpoint
from training.config import EmbedStageConfig, TrainConfig
from training.context import RunContext
from training.data import BalancedSampler, ImageBank, MusicBank, check_every_category
from training.distributed import wrap_model
from training.embedding import JointEmbedding, centroid_figures, image_centroids, track_features
from training.losses import joint_embedding_loss, pair_inconsistency
from training.stage_loop import LoopHost, StageLoop

log = logging.getLogger(__name__)

EVAL_WINDOWS_PER_TRACK = 4


def start_music_encoder(model: JointEmbedding, config: EmbedStageConfig) -> list[torch.nn.Module]:
    """Load `config.music_init` (a pretraining checkpoint) into the music encoder and freeze
    the parts `config.frozen_music` names; returns the frozen modules (kept in eval mode, so
    their BatchNorm statistics stay as they start too)."""
    if config.music_init:
        saved = load_checkpoint(Path(config.music_init), "pretrain")
        pretrained = TrainConfig.from_dict(saved["config"]).embed.music
        if pretrained != config.music:
            raise CheckpointError(
                f"{config.music_init}: pretrained a music encoder with {pretrained}, but "
                f"embed.music is {config.music}"
            )
        model.music.load_state_dict(saved["music_encoder"])
        log.info("embed: music encoder starts from %s", config.music_init)
    frozen = [getattr(model.music, part) for part in config.frozen_music]
    for module in frozen:
        module.requires_grad_(False)
    return frozen


def run_embed_stage(ctx: RunContext) -> Path:
    config = ctx.config.embed
    device = ctx.process.device
    categories = ctx.split.categories
    n_classes = len(categories)
    skipped = ctx.split.skipped
    music = MusicBank(ctx.split.train_tracks, ctx.cache, ctx.contract, skipped)
    validation_music = MusicBank(ctx.split.validation_tracks, ctx.cache, ctx.contract, skipped)
    images = ImageBank(ctx.split.train_images, config.image.image_size, skipped)
    check_every_category("training tracks", music.labels, categories)
    check_every_category("training images", images.labels, categories)
    sampler = BalancedSampler(music, images, n_classes, config.per_class)

    torch.manual_seed(ctx.config.seed)
    model = JointEmbedding(config)
    frozen = start_music_encoder(model, config)
    model = model.to(device)
    trained = wrap_model(model, ctx.process)
    optimizer = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad],
        lr=config.learning_rate,
        weight_decay=config.weight_decay,
    )
    floor_db = ctx.contract.floor_db

    def step(rng: np.random.Generator) -> dict[str, float]:
        paired = config.consistency_weight > 0
        windows, window_labels, batch_images, image_labels = sampler.sample(
            rng, config.consistency_shift if paired else None
        )
        windows = augment_windows(windows, window_labels, rng, ctx.config.data.augment, floor_db)
        trained.train()
        for module in frozen:
            module.eval()
        music_features, image_features = trained(
            torch.from_numpy(windows).to(device), torch.from_numpy(batch_images).to(device)
        )
        loss, figures = joint_embedding_loss(
            music_features,
            torch.from_numpy(window_labels).to(device),
            image_features,
            torch.from_numpy(image_labels).to(device),
            n_classes,
            kind=config.loss,
            margin=config.margin,
            temperature=config.temperature,
            image_self_weight=config.image_self_weight,
        )
        if paired:
            consistency = pair_inconsistency(music_features)
            loss = loss + config.consistency_weight * consistency
            figures["loss_consistency"] = float(consistency.detach())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        return {"loss": float(loss.detach()), **figures}

    def end_epoch(epoch: int) -> dict[str, float]:
        centroids = image_centroids(model.image, images, n_classes, device).cpu()
        figures = {}
        for name, bank in (("train", music), ("validation", validation_music)):
            if len(bank) == 0:
                continue
            features, labels, tracks = track_features(
                model.music, bank, EVAL_WINDOWS_PER_TRACK, device
            )
            for key, value in centroid_figures(features, labels, tracks, centroids).items():
                figures[f"{name}_{key}"] = value
        return figures

    def state() -> dict:
        return {"model": model.state_dict(), "optimizer": optimizer.state_dict()}

    def load(saved: dict) -> None:
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])

    loop = StageLoop(
        LoopHost.for_run(ctx, "embed"),
        config.epochs,
        config.steps_per_epoch,
        step,
        state,
        load,
        end_epoch,
    )
    return loop.run()
