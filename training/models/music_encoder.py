"""Music encoder: STFT window [B, 2, n_bins, n_frames] -> feature [B, feature_dim].

As in Qiu & Kataoka: a CNN on the power branch and one on the phase branch, their outputs
fused per time step by a fully connected layer, an LSTM over time, then the feature. To run
a full 16-s window in a few milliseconds on one CPU thread, the stem is a non-overlapping
patch conv (16 bins x 4 frames by default) and the time axis is downsampled before the LSTM.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from training.config import MusicEncoderConfig


class PatchStem(nn.Conv2d):
    """A convolution whose stride is its kernel (non-overlapping patches):
    [B, C, H, W] -> [B, out, H // kh, W // kw], the same parameters and result as
    `nn.Conv2d(C, out, kernel, kernel)`. While training, its forward is written as one
    matrix product over the patches: on one CPU thread the convolution's backward took
    0.72 s for a batch of 24 windows, the product's forward and backward 0.15 s, most of
    the embed stage's step. In eval mode (and so in the exported ONNX graph) it is the
    convolution, whose forward is the faster one."""

    def __init__(self, in_channels: int, out_channels: int, kernel: tuple[int, int]):
        super().__init__(in_channels, out_channels, kernel, kernel)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return super().forward(x)
        kernel_h, kernel_w = self.kernel_size
        batch, channels, height, width = x.shape
        rows, cols = height // kernel_h, width // kernel_w
        patches = x[:, :, : rows * kernel_h, : cols * kernel_w].reshape(
            batch, channels, rows, kernel_h, cols, kernel_w
        )
        patches = patches.permute(0, 2, 4, 1, 3, 5).reshape(
            batch, rows, cols, channels * kernel_h * kernel_w
        )  # [B, rows, cols, C * kh * kw]
        out = patches @ self.weight.reshape(self.out_channels, -1).T + self.bias
        return out.permute(0, 3, 1, 2)  # [B, out, rows, cols]


class BranchCNN(nn.Module):
    """One branch (power or phase): [B, 1, n_bins, n_frames] -> [B, T, C * F]."""

    def __init__(self, config: MusicEncoderConfig):
        super().__init__()
        c = config.channels
        layers: list[nn.Module] = [
            # [B, 1, n_bins, n_frames] -> [B, c0, n_bins/stem_freq, n_frames/stem_time]
            PatchStem(1, c[0], (config.stem_freq, config.stem_time)),
            nn.BatchNorm2d(c[0]),
            nn.LeakyReLU(0.2),
        ]
        for index, time_stride in enumerate(config.time_strides):
            layers += [
                # [B, c_i, F, T] -> [B, c_{i+1}, F/2, T/time_stride]
                nn.Conv2d(c[index], c[index + 1], 3, (2, time_stride), 1),
                nn.BatchNorm2d(c[index + 1]),
                nn.LeakyReLU(0.2),
            ]
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.layers(x)  # [B, C, F, T]
        batch, channels, freq, time = x.shape
        return x.permute(0, 3, 1, 2).reshape(batch, time, channels * freq)  # [B, T, C*F]


def branch_output_shape(config: MusicEncoderConfig) -> tuple[int, int]:
    """(time steps, values per step) a branch produces for the config's input size."""
    freq = config.n_bins // config.stem_freq
    time = config.n_frames // config.stem_time
    for stride in config.time_strides:
        freq = (freq - 1) // 2 + 1
        time = (time - 1) // stride + 1
    return time, config.channels[-1] * freq


class MusicEncoder(nn.Module):
    def __init__(self, config: MusicEncoderConfig):
        super().__init__()
        self.config = config
        self.power = BranchCNN(config)
        self.phase = BranchCNN(config)
        _, per_step = branch_output_shape(config)
        self.fuse = nn.Sequential(nn.Linear(2 * per_step, config.fused_dim), nn.LeakyReLU(0.2))
        self.lstm = nn.LSTM(config.fused_dim, config.lstm_hidden, batch_first=True)
        self.dropout = nn.Dropout(config.dropout)
        # The last LSTM output (recent music) and the mean over the window (all of it).
        self.head = nn.Linear(2 * config.lstm_hidden, config.feature_dim)

    def forward(self, window: torch.Tensor) -> torch.Tensor:
        power = window[:, 0:1]
        phase = window[:, 1:2]
        if self.config.normalise_input:
            # The front end's log power is absolute; standardise it per window (gain invariance).
            # Two short reductions (bins, then frames) rather than one over ~700k values:
            # ONNX Runtime sums one long ReduceMean sequentially in float32, which put the
            # exported encoder 5e-5 off torch on real music (torch: 3e-8 off float64).
            count = power.shape[2] * power.shape[3]
            mean = power.mean(dim=2, keepdim=True).mean(dim=3, keepdim=True)
            centred = power - mean
            variance = centred.square().mean(dim=2, keepdim=True).mean(dim=3, keepdim=True)
            std = (variance * (count / (count - 1))).sqrt()  # unbiased, as torch.std
            power = centred / (std + 1e-3)
        steps = torch.cat([self.power(power), self.phase(phase)], dim=2)  # [B, T, 2*C*F]
        fused = self.fuse(steps)  # [B, T, fused_dim]
        outputs, _ = self.lstm(fused)  # [B, T, hidden]
        summary = torch.cat([outputs[:, -1], outputs.mean(dim=1)], dim=1)  # [B, 2*hidden]
        feature = self.head(self.dropout(summary))  # [B, feature_dim]
        if self.config.unit_norm:
            feature = F.normalize(feature, dim=1)
        return feature
