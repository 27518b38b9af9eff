"""The judge's networks: a compact pre-activation ResNet and an ensemble of them, and
how photos are fed to them."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from training.judge.config import JudgeConfig
from visualizer.pixels import to_unit


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


def to_model_input(images: np.ndarray) -> torch.Tensor:
    """uint8 [N,H,W,3] -> float32 [N,3,H,W] in [-1, 1]."""
    return torch.from_numpy(to_unit(images)).permute(0, 3, 1, 2)


@torch.no_grad()
def predict(model: SceneJudge | JudgeEnsemble, images: np.ndarray, batch: int = 256) -> np.ndarray:
    """Eval-mode logits [N, C] for uint8 photos [N, H, W, 3], computed on the model's device;
    photos of another size than the model's input are resampled to it (bilinear, antialiased;
    torch's resize, on the batch as the model sees it, not visualizer.resize)."""
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
