"""Conditional DCGAN (pytorch/examples dcgan, conditioned as GAN-CLS, Reed et al. 2016).

The music feature is L2-normalised and projected to `projected_dim` (leaky ReLU); G
concatenates it with the noise (and, when configured, the picture attributes it is asked
for), D tiles it over its 4x4 map. G doubles its resolution by stride-2 transposed convs
(the paper's DCGAN) or by resize-convolution (`upsample="resize"` nearest or
`"bilinear"`, no checkerboard from uneven overlap); a fixed `DiagonalNotch` after the
output tanh can remove the checkerboard the tanh itself makes.
Resolution is any power of two from 16 up (64 is the paper's): one up/down-sampling stage
per factor of two above 4.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from training.config import DiscriminatorConfig, GeneratorConfig


def stage_count(image_size: int) -> int:
    stages = int(round(math.log2(image_size))) - 2
    if image_size < 16 or 2 ** (stages + 2) != image_size:
        raise ValueError(f"image_size must be a power of two >= 16, got {image_size}")
    return stages


class FeatureProjection(nn.Module):
    """feature [B, feature_dim] -> unit length -> [B, projected_dim] (leaky ReLU)."""

    def __init__(self, feature_dim: int, projected_dim: int):
        super().__init__()
        self.linear = nn.Linear(feature_dim, projected_dim)
        self.activation = nn.LeakyReLU(0.2)

    def forward(self, feature: torch.Tensor) -> torch.Tensor:
        unit = feature / (feature.norm(dim=1, keepdim=True) + 1e-6)
        return self.activation(self.linear(unit))


def _upsample(in_channels: int, out_channels: int, kind: str) -> list[nn.Module]:
    """[B, in, s, s] -> [B, out, 2s, 2s]: a stride-2 transposed conv, or nearest ("resize",
    `NearestResizeConv`) or bilinear x2 then a 3x3 conv (resize-convolution: every output
    pixel sees the same number of input pixels, so no checkerboard from uneven overlap;
    bilinear also leaves no 2x2 blocks)."""
    if kind == "transposed":
        return [nn.ConvTranspose2d(in_channels, out_channels, 4, 2, 1, bias=False)]
    if kind == "resize":
        return [NearestResizeConv(in_channels, out_channels)]
    return [
        nn.Upsample(scale_factor=2, mode="bilinear"),
        nn.Conv2d(in_channels, out_channels, 3, 1, 1, bias=False),
    ]


class NearestResizeConv(nn.Conv2d):
    """Nearest x2, then a 3x3 convolution (zero padding, no bias): [B, in, s, s] ->
    [B, out, 2s, 2s]. In eval mode, and so in the exported graph, it is exactly that.
    While training, the same result is computed at the input's resolution: an output
    pixel of row parity a and column parity b sees the 3x3 kernel folded onto the input
    pixels its taps land on (for a = 0, tap 0 lands on the row above and taps 1-2 on the
    pixel's own row; for a = 1, taps 0-1 on its own row and tap 2 on the row below), so
    one 3x3 convolution to 4 x out channels and a pixel shuffle give the four phases. On
    two CPU threads, a batch of 32 from 16 channels at 64 px to 3 at 128 px took 183 ms
    forward and backward as upsample-then-convolve, 35 ms folded."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__(in_channels, out_channels, 3, 1, 1, bias=False)
        # [phase, input offset -1 / 0 / +1, kernel tap]
        fold = torch.tensor(
            [[[1.0, 0.0, 0.0], [0.0, 1.0, 1.0], [0.0, 0.0, 0.0]],
             [[0.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]]
        )  # fmt: skip
        self.register_buffer("phase_fold", fold, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return super().forward(nn.functional.interpolate(x, scale_factor=2.0, mode="nearest"))
        fold = self.phase_fold.to(self.weight.dtype)
        # [out, row phase, column phase, in, 3, 3] -> [out * 4, in, 3, 3], pixel-shuffle order
        kernel = torch.einsum("aiu,bjv,ocuv->oabcij", fold, fold, self.weight)
        kernel = kernel.reshape(self.out_channels * 4, self.in_channels, 3, 3)
        return nn.functional.pixel_shuffle(nn.functional.conv2d(x, kernel, padding=self.padding), 2)


class DiagonalNotch(nn.Module):
    """[B, C, S, S] -> [B, C, S, S]: each channel filtered by 1 - (1 - cos wx)(1 - cos wy) / 4,
    which is 0 at the diagonal period-2 frequency (pi, pi), the checkerboard, and 1 along
    both axes (a horizontal or vertical edge passes unchanged); edges mirrored, the
    result kept in [-1, 1]. The kernel is fixed, not learned."""

    def __init__(self, channels: int):
        super().__init__()
        second_difference = torch.tensor([-1.0, 2.0, -1.0]) / 4  # 1 - cos w, halved
        kernel = -torch.outer(second_difference, second_difference)
        kernel[1, 1] += 1.0
        self.register_buffer(
            "kernel", kernel.expand(channels, 1, 3, 3).contiguous(), persistent=False
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        padded = nn.functional.pad(images, (1, 1, 1, 1), mode="reflect")
        filtered = nn.functional.conv2d(padded, self.kernel, groups=images.shape[1])
        return filtered.clamp(-1.0, 1.0)


class SkipExcitation(nn.Module):
    """FastGAN's skip-layer excitation: a low-resolution map [B, source, s, s] -> channel
    gates [B, target, 1, 1] in (0, 1) for a map further on: pooled to 4x4, a 4x4 conv to one
    value per channel, leaky ReLU, a 1x1 conv, sigmoid."""

    def __init__(self, source_channels: int, target_channels: int):
        super().__init__()
        self.gate = nn.Sequential(
            nn.AdaptiveAvgPool2d(4),
            nn.Conv2d(source_channels, target_channels, 4, 1, 0, bias=False),
            nn.LeakyReLU(0.1),
            nn.Conv2d(target_channels, target_channels, 1, 1, 0, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, source: torch.Tensor) -> torch.Tensor:
        return self.gate(source)


# With skip_excitation: the stage each gated stage takes its gates from, two stages back.
SKIP_EXCITATION_DISTANCE = 2
SKIP_EXCITATION_SOURCES = (0, 1)


def output_upsample_kind(config: GeneratorConfig) -> str:
    """The kind of G's last doubling: `output_upsample`, or `upsample` where that is "same"."""
    return config.upsample if config.output_upsample == "same" else config.output_upsample


class Generator(nn.Module):
    """G(noise, feature, attributes) -> image [B, 3, S, S] in [-1, 1]; `attributes` [B,
    attribute_dim] (picture attributes in z-units) only when the config has them."""

    def __init__(self, config: GeneratorConfig):
        super().__init__()
        self.config = config
        stages = stage_count(config.image_size)
        self.project = FeatureProjection(config.feature_dim, config.projected_dim)
        widths = [config.base_channels * 2 ** (stages - 1 - i) for i in range(stages)]
        code_dim = config.noise_dim + config.projected_dim + config.attribute_dim
        layers: list[nn.Module] = [
            # [B, code, 1, 1] -> [B, w0, 4, 4]
            nn.ConvTranspose2d(code_dim, widths[0], 4, 1, 0, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(True),
        ]
        stage_ends = [len(layers) - 1]  # the index of each stage's last layer (its ReLU)
        for index in range(stages - 1):
            layers += [
                # [B, w_i, s, s] -> [B, w_{i+1}, 2s, 2s]
                *_upsample(widths[index], widths[index + 1], config.upsample),
                nn.BatchNorm2d(widths[index + 1]),
                nn.ReLU(True),
            ]
            stage_ends.append(len(layers) - 1)
        layers += [
            # [B, w_last, S/2, S/2] -> [B, 3, S, S]
            *_upsample(widths[-1], 3, output_upsample_kind(config)),
            nn.Tanh(),
        ]
        if config.output_filter == "diagonal_notch":
            layers.append(DiagonalNotch(3))
        self.layers = nn.Sequential(*layers)
        # {gated stage: its gates from the stage SKIP_EXCITATION_DISTANCE back}, keyed by
        # the index of the gated stage's last layer
        self.excitations = nn.ModuleDict()
        self.excitation_sources: dict[int, int] = {}
        if config.skip_excitation:
            for source in SKIP_EXCITATION_SOURCES:
                target = source + SKIP_EXCITATION_DISTANCE
                if target < stages:
                    key = str(stage_ends[target])
                    self.excitations[key] = SkipExcitation(widths[source], widths[target])
                    self.excitation_sources[stage_ends[target]] = stage_ends[source]

    def _run_layers(self, x: torch.Tensor) -> torch.Tensor:
        """The layers in order; with skip excitation, each gated stage's map times the
        gates of the map its source stage ended with."""
        if not self.excitation_sources:
            return self.layers(x)
        kept: dict[int, torch.Tensor] = {}
        sources = set(self.excitation_sources.values())
        for index, layer in enumerate(self.layers):
            x = layer(x)
            if index in self.excitation_sources:
                # [B, w_t, s, s] * [B, w_t, 1, 1]
                x = x * self.excitations[str(index)](kept[self.excitation_sources[index]])
            if index in sources:
                kept[index] = x
        return x

    def forward(
        self,
        noise: torch.Tensor,
        feature: torch.Tensor,
        attributes: torch.Tensor | None = None,
    ) -> torch.Tensor:
        parts = [noise, self.project(feature)]  # [B, noise], [B, projected]
        if self.config.attribute_dim:
            if attributes is None or attributes.shape[1] != self.config.attribute_dim:
                raise ValueError(
                    f"this generator needs attributes [B, {self.config.attribute_dim}]"
                )
            parts.append(attributes)  # [B, attribute_dim]
        elif attributes is not None:
            raise ValueError("this generator takes no attributes (attribute_dim 0)")
        code = torch.cat(parts, dim=1)  # [B, code]
        return self._run_layers(code[:, :, None, None])  # [B, 3, S, S]


class TruncatedGenerator(nn.Module):
    """G with its noise scaled by `truncation` (Brock et al. 2019's truncation trick, as a
    scale): noise nearer the centre draws more typical, less varied images. 1 = G itself."""

    def __init__(self, generator: Generator, truncation: float):
        super().__init__()
        if not 0.0 < truncation <= 1.0:
            raise ValueError(f"truncation must be in (0, 1], got {truncation}")
        self.generator = generator
        self.truncation = truncation

    def forward(
        self,
        noise: torch.Tensor,
        feature: torch.Tensor,
        attributes: torch.Tensor | None = None,
    ) -> torch.Tensor:
        if self.truncation == 1.0:
            return self.generator(noise, feature, attributes)
        return self.generator(noise * self.truncation, feature, attributes)


CATEGORY_PULL_TEMPERATURE = 0.02


class CategoryPulledGenerator(nn.Module):
    """G with its music feature first pulled a share `pull` of the way toward the category
    prototypes, weighted by softmax(scores / temperature) of the feature's scores against
    them: for music well inside a category that is the prototype of the category it scores
    highest against (the category retrieval names; a score margin of 0.2 gives it 99.995% at
    0.02), so what G draws follows retrieval also for music that lands between categories;
    near a border the prototypes blend, so music crossing it cross-fades instead of cutting
    in one frame (as an argmax would). `prototypes` [n_categories, feature_dim] are the
    category prototypes the app scores against; pull 0 = G itself."""

    def __init__(
        self,
        generator: nn.Module,
        prototypes: torch.Tensor,
        pull: float,
        temperature: float = CATEGORY_PULL_TEMPERATURE,
    ):
        super().__init__()
        if not 0.0 <= pull <= 1.0:
            raise ValueError(f"category pull must be in [0, 1], got {pull}")
        if not temperature > 0.0:
            raise ValueError(f"category pull temperature must be > 0, got {temperature}")
        self.generator = generator
        self.register_buffer("prototypes", prototypes.float().clone())
        self.pull = pull
        self.temperature = temperature

    def forward(
        self,
        noise: torch.Tensor,
        feature: torch.Tensor,
        attributes: torch.Tensor | None = None,
    ) -> torch.Tensor:
        if self.pull == 0.0:
            return self.generator(noise, feature, attributes)
        scores = feature @ self.prototypes.T  # [B, n_categories]
        weights = torch.softmax(scores / self.temperature, dim=1)
        target = weights @ self.prototypes  # [B, feature_dim]
        # The attributes pass through unchanged.
        return self.generator(noise, feature + self.pull * (target - feature), attributes)


class Discriminator(nn.Module):
    """D(image, feature) -> (match logit [B], category logits [B, n_classes]).

    The match logit says "a real image matching its music" (GAN-CLS). The category logits
    are an auxiliary classifier on the image alone (AC-GAN, Odena et al. 2017): trained on
    real photos, it gives G a direct signal to draw the category its music belongs to.
    """

    def __init__(self, config: DiscriminatorConfig, n_classes: int):
        super().__init__()
        if n_classes < 2:
            raise ValueError(f"the discriminator needs at least two categories, got {n_classes}")
        self.config = config
        stages = stage_count(config.image_size)
        widths = [config.base_channels * 2**i for i in range(stages)]
        spectral = config.normalization == "spectral"

        def weighted(layer: nn.Module) -> nn.Module:
            return nn.utils.parametrizations.spectral_norm(layer) if spectral else layer

        def normalised(channels: int) -> list[nn.Module]:
            return [] if spectral else [nn.BatchNorm2d(channels)]

        layers: list[nn.Module] = [
            # [B, 3, S, S] -> [B, w0, S/2, S/2]
            weighted(nn.Conv2d(3, widths[0], 4, 2, 1, bias=False)),
            nn.LeakyReLU(0.2, inplace=True),
        ]
        for index in range(stages - 1):
            layers += [
                # [B, w_i, s, s] -> [B, w_{i+1}, s/2, s/2]
                weighted(nn.Conv2d(widths[index], widths[index + 1], 4, 2, 1, bias=False)),
                *normalised(widths[index + 1]),
                nn.LeakyReLU(0.2, inplace=True),
            ]
        self.image_layers = nn.Sequential(*layers)
        self.project = FeatureProjection(config.feature_dim, config.projected_dim)
        if spectral:
            weighted(self.project.linear)
        self.joint = nn.Sequential(
            # [B, w_last + projected, 4, 4] -> [B, w_last, 4, 4]
            weighted(nn.Conv2d(widths[-1] + config.projected_dim, widths[-1], 1, 1, 0, bias=False)),
            *normalised(widths[-1]),
            nn.LeakyReLU(0.2, inplace=True),
            # [B, w_last, 4, 4] -> [B, 1, 1, 1]
            weighted(nn.Conv2d(widths[-1], 1, 4, 1, 0, bias=False)),
        )
        # [B, w_last, 4, 4] -> [B, n_classes]
        self.classify = weighted(nn.Linear(widths[-1] * 4 * 4, n_classes))

    def forward(
        self, image: torch.Tensor, feature: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.image_layers(image)  # [B, w_last, 4, 4]
        tiled = self.project(feature)[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])
        match = self.joint(torch.cat([x, tiled], dim=1)).flatten()  # [B]
        return match, self.classify(x.flatten(1))  # [B], [B, n_classes]
