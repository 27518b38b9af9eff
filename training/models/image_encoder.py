"""AlexNet-style image encoder: [B, 3, S, S] in [-1, 1] -> [B, feature_dim], from scratch."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from training.config import ImageEncoderConfig


class ImageEncoder(nn.Module):
    def __init__(self, config: ImageEncoderConfig):
        super().__init__()
        self.config = config
        c = config.channels
        if len(c) != 5:
            raise ValueError(f"AlexNet-style encoder has 5 convs, config gives {len(c)}")
        if config.image_size % 16:
            raise ValueError(f"image_size must be a multiple of 16, got {config.image_size}")
        s = config.image_size
        self.features = nn.Sequential(
            # [B, 3, S, S] -> [B, c0, S/2, S/2] -> pool [B, c0, S/4, S/4]
            nn.Conv2d(3, c[0], 5, 2, 2),
            nn.BatchNorm2d(c[0]),
            nn.ReLU(),
            nn.MaxPool2d(2),
            # [B, c0, S/4, S/4] -> [B, c1, S/4, S/4] -> pool [B, c1, S/8, S/8]
            nn.Conv2d(c[0], c[1], 5, 1, 2),
            nn.BatchNorm2d(c[1]),
            nn.ReLU(),
            nn.MaxPool2d(2),
            # [B, c1, S/8, S/8] -> [B, c2, S/8, S/8]
            nn.Conv2d(c[1], c[2], 3, 1, 1),
            nn.BatchNorm2d(c[2]),
            nn.ReLU(),
            # [B, c2, S/8, S/8] -> [B, c3, S/8, S/8]
            nn.Conv2d(c[2], c[3], 3, 1, 1),
            nn.BatchNorm2d(c[3]),
            nn.ReLU(),
            # [B, c3, S/8, S/8] -> [B, c4, S/8, S/8] -> pool [B, c4, S/16, S/16]
            nn.Conv2d(c[3], c[4], 3, 1, 1),
            nn.BatchNorm2d(c[4]),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        flat = c[4] * (s // 16) ** 2
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(config.dropout),
            nn.Linear(flat, config.hidden_dim),
            nn.ReLU(),
            nn.Dropout(config.dropout),
            nn.Linear(config.hidden_dim, config.feature_dim),
        )

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        feature = self.head(self.features(image))
        if self.config.unit_norm:
            feature = F.normalize(feature, dim=1)
        return feature
