"""The joint embedding (music encoder + image encoder) and the figures measured on it."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from training.config import EmbedStageConfig
from training.data import ImageBank, MusicBank
from training.models import ImageEncoder, MusicEncoder


class JointEmbedding(nn.Module):
    def __init__(self, config: EmbedStageConfig):
        super().__init__()
        self.music = MusicEncoder(config.music)
        self.image = ImageEncoder(config.image)

    def forward(self, windows: torch.Tensor, images: torch.Tensor):
        return self.music(windows), self.image(images)


@torch.no_grad()
def image_centroids(
    encoder: ImageEncoder, bank: ImageBank, n_classes: int, device, batch: int = 128
) -> torch.Tensor:
    """[n_classes, D]: the mean image embedding of each category (encoder in eval mode)."""
    was_training = encoder.training
    encoder.eval()
    sums = torch.zeros(n_classes, encoder.config.feature_dim, dtype=torch.float64)
    for start in range(0, len(bank), batch):
        indices = np.arange(start, min(start + batch, len(bank)))
        embedded = encoder(torch.from_numpy(bank.batch(indices)).to(device)).double().cpu()
        sums.index_add_(0, torch.from_numpy(bank.labels[indices]), embedded)
    encoder.train(was_training)
    counts = torch.bincount(torch.from_numpy(bank.labels), minlength=n_classes).double()
    return (sums / counts[:, None]).float()


@torch.no_grad()
def track_features(
    encoder: MusicEncoder, bank: MusicBank, windows_per_track: int, device, batch: int = 16
) -> tuple[torch.Tensor, np.ndarray, np.ndarray]:
    """Features of evenly spaced windows of every track: (features [N, D], labels, track ids)."""
    was_training = encoder.training
    encoder.eval()
    items = [
        (track, start)
        for track in range(len(bank))
        for start in bank.fixed_starts(track, windows_per_track)
    ]
    features = []
    for offset in range(0, len(items), batch):
        chunk = items[offset : offset + batch]
        windows = np.stack([bank.window(track, start) for track, start in chunk])
        features.append(encoder(torch.from_numpy(windows).to(device)).cpu())
    encoder.train(was_training)
    tracks = np.asarray([track for track, _ in items], dtype=np.int64)
    labels = np.asarray([bank.labels[track] for track in tracks], dtype=np.int64)
    return torch.cat(features), labels, tracks


def centroid_figures(
    features: torch.Tensor, labels: np.ndarray, tracks: np.ndarray, centroids: torch.Tensor
) -> dict[str, float]:
    """Window accuracy (argmax of feature . centroid), per-track majority accuracy, the
    smallest share of windows any category receives (a collapse detector), and stability
    (share of a track's consecutive windows, in `tracks` order, given the same category)."""
    chosen = (features @ centroids.T).argmax(1).numpy()
    n_classes = centroids.shape[0]
    track_correct, same, pairs = [], 0, 0
    for track in np.unique(tracks):
        of_track = chosen[tracks == track]
        votes = np.bincount(of_track, minlength=n_classes)
        track_correct.append(int(votes.argmax() == labels[tracks == track][0]))
        same += int(np.sum(of_track[1:] == of_track[:-1]))
        pairs += len(of_track) - 1
    shares = np.bincount(chosen, minlength=n_classes) / max(len(chosen), 1)
    return {
        "window_accuracy": float(np.mean(chosen == labels)),
        "track_accuracy": float(np.mean(track_correct)),
        "min_category_share": float(shares.min()),
        "stability": same / pairs if pairs else float("nan"),
    }
