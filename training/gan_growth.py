"""Growing a trained GAN to twice its resolution without changing what it does.

Progressive growing (Karras et al. 2018) adds a stage at the new resolution to a G and a D
trained at half of it; here the grown pair starts as the function the small pair computes
(Net2Net, Chen et al. 2016), so training at the new size begins from the small pair's
pictures and judgements instead of from noise:

- G at 2S with half the base channels has the small G's widths up to its S/2 map, so its
  projection and every stage up to that map are copied. Its new stage (resize-conv to S,
  BatchNorm, ReLU) carries the small G's pre-tanh picture in channels 0-2 and its negative
  in 3-5 (the small G's last resize-conv, copied and negated; the BatchNorm's scale and
  shift set to the measured spread and mean of those channels, so it passes them through;
  relu(x) - relu(-x) = x); its last resize-conv takes the centre tap of x only, so the
  grown G draws tanh of the small G's pre-tanh picture, each pixel repeated 2x2 (or, with
  `output_upsample` "bilinear", that picture bilinearly enlarged: the resize is linear, so
  it carries relu(x) - relu(-x) = x through too). Its other channels start at their random
  weights and feed the output through zero weights, which training moves first.
- D at 2S with half the base channels has one more stage in front. Its first conv averages
  2x2 blocks into channels 0-2 (and their negatives into 3-5, since the leaky ReLU's
  lrelu(x) - lrelu(-x) = (1 + slope) x), its second applies the small D's first conv to that
  average, through a BatchNorm set to pass it; the small D's later stages, its projection,
  joint head and category head are copied. So the grown D judges a 2S picture as the small
  D judges its 2x2 average, and its new channels learn what only 2S shows.

BatchNorm in training mode normalises each batch by its own statistics, so "passes through"
holds for batches like the calibration ones, not exactly for every batch.

The small G can also be read back from an exported generator.onnx (`generator_from_onnx`),
so a run can grow the shipped file when the checkpoint that made it is gone; the file holds
no D, so the grown D begins from random weights (`gan.discriminator_warmup_epochs` lets it
learn alone first), or a run at the file's own size trains a D alone for the file's G and
the 2x run grows that run's checkpoint.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import onnx
import torch
from google.protobuf.message import DecodeError
from onnx import numpy_helper
from torch import nn

from training.config import DiscriminatorConfig, GeneratorConfig
from training.models import Discriminator, Generator
from training.models.gan import NearestResizeConv, output_upsample_kind, stage_count
from training.weight_average import recalibrate_batch_norm
from visualizer.model_files import ModelFileError, ModelMetadata

LAYERS_PER_STAGE = 3  # G: upsample, BatchNorm, ReLU; D: conv, BatchNorm, leaky ReLU
# torch's ONNX exporter folds each eval-mode BatchNorm into the convolution before it: the
# folded weight keeps the conv's name and its bias is "<weight name>_bias"
FOLDED_BIAS_SUFFIX = "_bias"
PROJECTION_WEIGHT = "project.linear.weight"
IDENTITY_CHANNELS = 6  # the picture's three channels and their negatives
LEAKY_SLOPE = 0.2
# The grown G's last doubling: nearest ("resize", the small G's) or bilinear; either passes
# the centre tap of its 3x3 conv through unchanged, which the identity start relies on.
GROWABLE_OUTPUT_UPSAMPLES = ("resize", "bilinear")


class GrowthError(ValueError):
    """A checkpoint cannot be grown into this run's models."""


def check_growable(
    small_g: GeneratorConfig,
    small_d: DiscriminatorConfig | None,
    large_g: GeneratorConfig,
    large_d: DiscriminatorConfig,
    source: Path,
) -> None:
    """Raise GrowthError naming `source` unless the large pair is the small pair at twice
    the image size and half the base channels (so the shared stages have equal widths);
    `small_d` None: there is no small D (G alone grows; the large D starts at random)."""
    problems = []
    if large_g.image_size != 2 * small_g.image_size:
        problems.append(
            f"image size {small_g.image_size} cannot grow to {large_g.image_size} (only to "
            f"{2 * small_g.image_size})"
        )
    pairs = [("generator", small_g, large_g)]
    if small_d is not None:
        pairs.append(("discriminator", small_d, large_d))
    for part, small, large in pairs:
        if small.base_channels != 2 * large.base_channels:
            problems.append(
                f"{part} base channels {small.base_channels} need the grown run's to be "
                f"{small.base_channels // 2}, got {large.base_channels}"
            )
        if large.base_channels < IDENTITY_CHANNELS:
            problems.append(f"the grown {part} needs >= {IDENTITY_CHANNELS} base channels")
    for name in ("noise_dim", "feature_dim", "projected_dim", "attribute_dim"):
        if getattr(small_g, name) != getattr(large_g, name):
            problems.append(
                f"generator {name} {getattr(small_g, name)} differs from the grown run's "
                f"{getattr(large_g, name)}"
            )
    for config in (small_g, large_g):
        if config.upsample != "resize" or config.skip_excitation:
            problems.append("both generators need upsample 'resize' and no skip excitation")
            break
    if output_upsample_kind(small_g) != "resize":
        problems.append("the small generator needs output_upsample 'same'")
    if output_upsample_kind(large_g) not in GROWABLE_OUTPUT_UPSAMPLES:
        problems.append(
            f"the grown generator's output_upsample must be one of {GROWABLE_OUTPUT_UPSAMPLES}"
            f" (its kind: {output_upsample_kind(large_g)!r})"
        )
    if small_g.output_filter != "none" or large_g.output_filter != "none":
        problems.append("both generators need output_filter 'none' (apply it at export)")
    if small_d is not None:
        if (small_d.feature_dim, small_d.projected_dim) != (
            large_d.feature_dim,
            large_d.projected_dim,
        ):
            problems.append("the discriminators' feature_dim and projected_dim differ")
        if small_d.normalization != "batch" or large_d.normalization != "batch":
            problems.append("both discriminators need normalization 'batch'")
    if problems:
        raise GrowthError(f"{source}: cannot grow into this run: " + "; ".join(problems))


def _copy_matching(target: nn.Module, source_state: dict, rename=lambda name: name) -> int:
    """Copy every tensor of `source_state` into `target`'s state under `rename(name)` where
    that name exists with the same shape; returns how many were copied."""
    state = target.state_dict()
    copied = 0
    for name, value in source_state.items():
        new_name = rename(name)
        if new_name is not None and new_name in state and state[new_name].shape == value.shape:
            state[new_name] = value.clone()
            copied += 1
    target.load_state_dict(state)
    return copied


def _pass_through(norm: nn.BatchNorm2d, channels: Sequence[int]) -> None:
    """Set `norm`'s scale and shift on `channels` to undo its normalisation by its running
    statistics (just measured), so those channels leave it as they came."""
    with torch.no_grad():
        index = torch.as_tensor(channels)
        norm.weight[index] = (norm.running_var[index] + norm.eps).sqrt()
        norm.bias[index] = norm.running_mean[index]


@torch.no_grad()
def grow_generator(
    small_state: dict, small_config: GeneratorConfig, large: Generator, calibration: Iterable
) -> None:
    """Load into `large` (2x the size of `small_config`) the small G of `small_state`, grown
    as the module docstring says; `calibration` yields G's inputs (noise, feature[,
    attributes]) for measuring the new BatchNorm."""
    small = Generator(small_config).to(next(large.parameters()).device)
    small.load_state_dict(small_state)
    trunk_end = LAYERS_PER_STAGE * stage_count(small_config.image_size)  # small's last conv
    shared = {
        name: value
        for name, value in small.state_dict().items()
        if not name.startswith("layers.") or int(name.split(".")[1]) < trunk_end
    }
    copied = _copy_matching(large, shared)
    if copied != len(shared):
        raise GrowthError(f"only {copied} of the small generator's {len(shared)} tensors fit")
    small_rgb: NearestResizeConv = small.layers[trunk_end]  # [3, w, 3, 3]
    new_conv: NearestResizeConv = large.layers[trunk_end]  # [w_new, w, 3, 3]
    new_norm: nn.BatchNorm2d = large.layers[trunk_end + 1]
    # [3, w_new, 3, 3]: the last doubling's conv (after its bilinear resize, if it has one)
    last_doubling = large.layers[trunk_end + LAYERS_PER_STAGE :]
    large_rgb = next(layer for layer in last_doubling if isinstance(layer, nn.Conv2d))
    new_conv.weight[0:3] = small_rgb.weight
    new_conv.weight[3:6] = -small_rgb.weight
    recalibrate_batch_norm(large, calibration)
    _pass_through(new_norm, range(IDENTITY_CHANNELS))
    large_rgb.weight.zero_()
    for channel in range(3):
        large_rgb.weight[channel, channel, 1, 1] = 1.0
        large_rgb.weight[channel, channel + 3, 1, 1] = -1.0
    large.train()


@torch.no_grad()
def grow_discriminator(
    small_state: dict,
    small_config: DiscriminatorConfig,
    n_classes: int,
    large: Discriminator,
    calibration: Iterable,
) -> None:
    """Load into `large` (2x the size of `small_config`) the small D of `small_state`, grown
    as the module docstring says; `calibration` yields D's inputs (images, features) for
    measuring the new BatchNorm."""
    small = Discriminator(small_config, n_classes).to(next(large.parameters()).device)
    small.load_state_dict(small_state)
    shift = len(large.image_layers) - len(small.image_layers)  # the new front stage
    first = 2  # the small D's first conv and its leaky ReLU have no counterpart by shape

    def rename(name: str) -> str | None:
        if not name.startswith("image_layers."):
            return name
        index = int(name.split(".")[1])
        if index < first:
            return None
        return f"image_layers.{index + shift}." + name.split(".", 2)[2]

    shared = {name: value for name, value in small.state_dict().items() if rename(name)}
    copied = _copy_matching(large, shared, rename)
    if copied != len(shared):
        raise GrowthError(f"only {copied} of the small discriminator's {len(shared)} tensors fit")
    average: nn.Conv2d = large.image_layers[0]  # [w0, 3, 4, 4], stride 2
    small_first: nn.Conv2d = small.image_layers[0]  # [w, 3, 4, 4]
    bridge: nn.Conv2d = large.image_layers[2]  # [w, w0, 4, 4]
    bridge_norm: nn.BatchNorm2d = large.image_layers[3]
    for channel in range(3):
        average.weight[channel] = 0.0
        average.weight[channel + 3] = 0.0
        # taps 1-2 of a 4-tap, stride-2, padding-1 kernel cover exactly the 2x2 block
        average.weight[channel, channel, 1:3, 1:3] = 0.25
        average.weight[channel + 3, channel, 1:3, 1:3] = -0.25
    bridge.weight.zero_()
    bridge.weight[:, 0:3] = small_first.weight / (1.0 + LEAKY_SLOPE)
    bridge.weight[:, 3:6] = -small_first.weight / (1.0 + LEAKY_SLOPE)
    recalibrate_batch_norm(large, calibration)
    _pass_through(bridge_norm, range(bridge_norm.num_features))
    large.train()


def generator_from_onnx(
    path: Path, calibration: Iterable[tuple[torch.Tensor, ...]]
) -> tuple[GeneratorConfig, dict]:
    """The (config, state dict) of the trained G inside the exported generator.onnx `path`
    (a "resize" G without skip excitation; its export-time notch, truncation and category
    pull are left out: they are not G's weights). Each BatchNorm the exporter folded into
    its conv (weight W', bias b) comes back as W' and a BatchNorm whose running statistics
    are those of its input over `calibration` (G's inputs, as in training) and whose scale
    and shift pass that input through plus b: in eval mode exactly the file's G, in training
    mode the same on batches like the calibration ones. Raises GrowthError naming `path`."""
    try:
        model = onnx.load(str(path))
    except (OSError, DecodeError) as error:
        raise GrowthError(f"{path}: not an exported generator ({error})") from error
    try:
        metadata = ModelMetadata.from_props(
            {p.key: p.value for p in model.metadata_props}, str(path)
        )
    except ModelFileError as error:
        raise GrowthError(str(error)) from error
    sizes = {k: getattr(metadata, k) for k in ("image_size", "noise_dim", "feature_dim")}
    tensors = {init.name: init for init in model.graph.initializer}
    prefixes = [
        name[: -len(PROJECTION_WEIGHT)] for name in tensors if name.endswith(PROJECTION_WEIGHT)
    ]
    if len(prefixes) != 1:
        raise GrowthError(f"{path}: not an exported generator (no single {PROJECTION_WEIGHT})")
    weights = {
        name[len(prefixes[0]) :]: torch.from_numpy(numpy_helper.to_array(init).copy())
        for name, init in tensors.items()
        if name.startswith(prefixes[0])
    }
    resize_modes = {
        attribute.s.decode()
        for node in model.graph.node
        if node.op_type == "Resize"
        for attribute in node.attribute
        if attribute.name == "mode"
    }
    first = weights.get("layers.0.weight")  # [code, w0, 4, 4]
    if first is None or first.ndim != 4:
        raise GrowthError(
            f"{path}: not an exported generator (no layers.0.weight [code, w0, 4, 4])"
        )
    if any(name.startswith("excitations.") for name in weights) or resize_modes != {"nearest"}:
        raise GrowthError(f"{path}: only a 'resize' generator without skip excitation can grow")
    projected_dim = weights[PROJECTION_WEIGHT].shape[0]
    stages = stage_count(sizes["image_size"])
    config = GeneratorConfig(
        **sizes,
        projected_dim=projected_dim,
        base_channels=first.shape[1] // 2 ** (stages - 1),
        attribute_dim=first.shape[0] - sizes["noise_dim"] - projected_dim,
        upsample="resize",
    )
    generator = Generator(config)
    state = generator.state_dict()
    folded_biases = {}
    for name in list(state):
        if name.endswith(".num_batches_tracked"):
            continue
        source = weights.get(name)
        index = int(name.split(".")[1]) if name.startswith("layers.") else None
        if (
            source is None
            and index is not None
            and isinstance(generator.layers[index], nn.BatchNorm2d)
        ):
            continue  # set below from the conv before it
        if source is None or source.shape != state[name].shape:
            raise GrowthError(
                f"{path}: its generator has no {name} of shape {tuple(state[name].shape)}"
            )
        state[name] = source
        bias = weights.get(name + FOLDED_BIAS_SUFFIX)
        if bias is not None:
            folded_biases[index + 1] = bias
    generator.load_state_dict(state)
    norms = {i: m for i, m in enumerate(generator.layers) if isinstance(m, nn.BatchNorm2d)}
    if set(norms) != set(folded_biases):
        raise GrowthError(f"{path}: its generator's folded BatchNorms do not match a DCGAN G")
    with torch.no_grad():
        for index, norm in norms.items():  # eval mode: y -> y + b
            norm.running_mean.zero_()
            norm.running_var.fill_(1.0 - norm.eps)
            norm.weight.fill_(1.0)
            norm.bias.copy_(folded_biases[index])
        _pass_through_measured(generator, norms, list(calibration))
    return config, generator.state_dict()


@torch.no_grad()
def _pass_through_measured(generator: Generator, norms: dict[int, nn.BatchNorm2d], batches) -> None:
    """Give each of `norms` (each computing y + b in eval mode) the mean and biased
    variance of its input over `batches` as running statistics and the scale and shift that
    undo their normalisation, keeping y + b; eval mode throughout, so every norm measures
    the input the file's G gives it."""
    inputs: dict[int, list[torch.Tensor]] = {index: [] for index in norms}
    hooks = [
        norm.register_forward_pre_hook(
            lambda module, args, index=index: inputs[index].append(
                args[0].transpose(0, 1).flatten(1)
            )
        )
        for index, norm in norms.items()
    ]  # each [C, B * s * s]
    generator.eval()
    try:
        for batch in batches:
            generator(*batch)
    finally:
        for hook in hooks:
            hook.remove()
    for index, norm in norms.items():
        seen = torch.cat(inputs[index], dim=1)
        folded_bias = norm.bias.clone()
        norm.running_mean.copy_(seen.mean(dim=1))
        norm.running_var.copy_(seen.var(dim=1, unbiased=False))
        _pass_through(norm, range(norm.num_features))
        norm.bias += folded_bias
