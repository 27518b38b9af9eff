"""Stage 0 (optional): self-supervised pretraining of the music encoder (SimCLR-style).

Two crops of one track, each augmented so that the track's identity is not the easy cue
(pitch shift, time stretch, EQ tilt, gain, noise, reverb), are positives; the crops of the
other tracks in the batch are negatives (NT-Xent, Chen et al. 2020). Labels are never read:
the tracks are every audio file under the data's music folders plus `pretrain.music_dirs`
(unlabelled music; any depth). The encoder keeps the paper's structure (power and phase
CNNs fused per time step, LSTM, feature); a projection head maps its feature into the space
the loss compares in and is dropped afterwards. Crops are `pretrain.crop_frames` long (the
CNN and LSTM take any length), which makes a step several times cheaper than a full window.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from training.augment import gain_and_tilt, mix_power, pitch_shift
from training.config import PretrainStageConfig
from training.context import RunContext
from training.data import MusicBank
from training.models import MusicEncoder
from training.stage_loop import LoopHost, StageLoop
from visualizer.folders import AUDIO_EXTENSIONS

log = logging.getLogger(__name__)


def pretraining_tracks(ctx: RunContext) -> list[tuple[Path, int]]:
    """Every audio file under the data's music folders and `pretrain.music_dirs`, label -1."""
    folders = ["music", *ctx.config.data.extra_music, *ctx.config.pretrain.music_dirs]
    found = set()
    for name in folders:
        folder = ctx.data_root / name
        if folder.is_dir():
            found.update(
                path
                for path in folder.rglob("*")
                if path.is_file() and path.suffix.lower() in AUDIO_EXTENSIONS
            )
    return [(path, -1) for path in sorted(found)]


def time_stretch(window: np.ndarray, rate: float, frames: int) -> np.ndarray:
    """[2, n_bins, frames] read from `window` at `rate` columns per output column (linear
    interpolation between columns); rate > 1 plays faster."""
    source = np.arange(frames, dtype=np.float32) * np.float32(rate)
    source = np.minimum(source, window.shape[2] - 1)
    lower = source.astype(np.int64)
    upper = np.minimum(lower + 1, window.shape[2] - 1)
    weight = (source - lower)[None, None, :]
    return (window[:, :, lower] * (1.0 - weight) + window[:, :, upper] * weight).astype(np.float32)


def reverberate(power: np.ndarray, decay_per_frame: float) -> np.ndarray:
    """Log power [n_bins, T] with an exponential tail: each frame at least the previous
    frame's value lowered by `decay_per_frame` (contract units), as a room's decay."""
    out = power.copy()
    for t in range(1, out.shape[1]):
        np.maximum(out[:, t], out[:, t - 1] - decay_per_frame, out=out[:, t])
    return out


class PretrainViews:
    """Two augmented crops of a track, drawn from a MusicBank (track identity kept in the
    batch order: crops 2i and 2i+1 are of track i)."""

    def __init__(self, bank: MusicBank, config: PretrainStageConfig, floor_db: float):
        self.bank = bank
        self.config = config
        self.floor_db = floor_db

    def view(self, track: int, rng: np.random.Generator) -> np.ndarray:
        config = self.config
        rate = float(
            2.0 ** rng.uniform(-np.log2(1 + config.max_stretch), np.log2(1 + config.max_stretch))
        )
        needed = int(np.ceil(config.crop_frames * rate)) + 1
        available = self.bank.features[track].shape[2]
        start = int(rng.integers(0, max(available - needed, 0) + 1))
        window = time_stretch(self.bank.crop(track, start, needed), rate, config.crop_frames)
        window = pitch_shift(window, rng.uniform(-config.max_semitones, config.max_semitones))
        power = window[0]
        gain = rng.uniform(-config.gain_db, config.gain_db)
        gain_and_tilt(power, gain, rng.uniform(-config.tilt_db, config.tilt_db), self.floor_db)
        units_per_db = -2.0 / self.floor_db
        if rng.random() < config.noise_probability:
            level = 1.0 + units_per_db * rng.uniform(-70.0, -35.0)  # noise at -70..-35 dB
            noise = np.full_like(power, np.float32(level))
            noise += rng.normal(0.0, 0.05, noise.shape).astype(np.float32)
            window[0] = mix_power(power, noise, self.floor_db)
        if rng.random() < config.reverb_probability:
            decay = units_per_db * rng.uniform(0.5, 3.0)  # dB lost per frame (23 ms)
            window[0] = reverberate(window[0], decay)
        return window

    def batch(self, rng: np.random.Generator) -> np.ndarray:
        """[2 * batch_tracks, 2, n_bins, crop_frames]: two views of each of distinct tracks."""
        count = min(self.config.batch_tracks, len(self.bank))
        tracks = rng.choice(len(self.bank), count, replace=False)
        return np.stack([self.view(int(t), rng) for t in tracks for _ in range(2)])


class ProjectionHead(nn.Module):
    def __init__(self, feature_dim: int, hidden: int, out: int):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(feature_dim, hidden), nn.ReLU(), nn.Linear(hidden, out)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


def nt_xent(projections: torch.Tensor, temperature: float) -> tuple[torch.Tensor, float]:
    """NT-Xent over [2N, D] where rows 2i and 2i+1 are positives; (loss, positive top-1)."""
    z = F.normalize(projections, dim=1)
    similarity = z @ z.T / temperature  # [2N, 2N]
    similarity.fill_diagonal_(float("-inf"))
    partner = torch.arange(z.shape[0], device=z.device) ^ 1  # 0<->1, 2<->3, ...
    loss = F.cross_entropy(similarity, partner)
    top1 = float((similarity.argmax(1) == partner).float().mean())
    return loss, top1


def run_pretrain_stage(ctx: RunContext) -> Path:
    config = ctx.config.pretrain
    device = ctx.process.device
    tracks = pretraining_tracks(ctx)
    bank = MusicBank(tracks, ctx.cache, ctx.contract, ctx.split.skipped)
    if len(bank) < 2:
        raise RuntimeError(f"pretraining needs at least two readable tracks, found {len(bank)}")
    log.info("pretrain: %d tracks (%d skipped)", len(bank), len(tracks) - len(bank))
    views = PretrainViews(bank, config, ctx.contract.floor_db)

    torch.manual_seed(ctx.config.seed)
    music_config = ctx.config.embed.music
    encoder = MusicEncoder(music_config).to(device)
    head = ProjectionHead(music_config.feature_dim, config.head_hidden, config.head_dim).to(device)
    parameters = list(encoder.parameters()) + list(head.parameters())
    optimizer = torch.optim.AdamW(
        parameters, lr=config.learning_rate, weight_decay=config.weight_decay
    )

    def step(rng: np.random.Generator) -> dict[str, float]:
        windows = torch.from_numpy(views.batch(rng)).to(device)  # [2N, 2, n_bins, crop_frames]
        encoder.train()
        features = encoder(windows)  # [2N, feature_dim]
        loss, top1 = nt_xent(head(features), config.temperature)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, config.grad_clip)
        optimizer.step()
        return {"loss": float(loss.detach()), "positive_top1": top1}

    def end_epoch(epoch: int) -> dict[str, float]:
        return {}

    def state() -> dict:
        return {
            "music_encoder": encoder.state_dict(),
            "head": head.state_dict(),
            "optimizer": optimizer.state_dict(),
        }

    def load(saved: dict) -> None:
        encoder.load_state_dict(saved["music_encoder"])
        head.load_state_dict(saved["head"])
        optimizer.load_state_dict(saved["optimizer"])

    loop = StageLoop(
        LoopHost.for_run(ctx, "pretrain"),
        config.epochs,
        config.steps_per_epoch,
        step,
        state,
        load,
        end_epoch,
    )
    return loop.run()
