"""The generator's options: resize-convolution upsampling and picture-attribute input."""

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from training.config import GanStageConfig, GeneratorConfig, TrainConfig, tiny_config
from training.models import CategoryPulledGenerator, Generator, TruncatedGenerator
from training.models.gan import DiagonalNotch, NearestResizeConv, SkipExcitation
from visualizer.metrics import checkerboard_ratio


def generator(**options) -> Generator:
    torch.manual_seed(0)
    values = {"image_size": 16, "noise_dim": 8, "feature_dim": 6, "base_channels": 4}
    return Generator(GeneratorConfig(**(values | options))).eval()


@pytest.mark.parametrize(
    ("size", "kind", "mode"),
    [(16, "resize", "nearest"), (64, "resize", "nearest"), (64, "bilinear", "bilinear")],
)
def test_resize_convolution_generator_draws_the_size_without_strided_transposed_convs(
    size, kind, mode
):
    resize = generator(image_size=size, upsample=kind)
    with torch.no_grad():
        image = resize(torch.randn(3, 8), torch.randn(3, 6))
    assert image.shape == (3, 3, size, size) and float(image.abs().max()) <= 1.0
    transposed = [m for m in resize.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert [m.stride for m in transposed] == [(1, 1)]  # only the 1x1 -> 4x4 projection
    stages = int(np.log2(size)) - 2
    upsamples = [m for m in resize.modules() if isinstance(m, nn.Upsample)]
    folded = [m for m in resize.modules() if isinstance(m, NearestResizeConv)]
    if mode == "nearest":
        assert len(folded) == stages and upsamples == []
    else:
        assert len(upsamples) == stages and folded == []
        assert all(m.mode == mode and m.scale_factor == 2 for m in upsamples)


def test_the_folded_training_path_of_a_nearest_resize_conv_equals_upsample_then_convolve():
    torch.manual_seed(0)
    layer = NearestResizeConv(5, 7).double()
    x = torch.randn(3, 5, 6, 4, dtype=torch.float64, requires_grad=True)
    upstream = torch.randn(3, 7, 12, 8, dtype=torch.float64)
    reference = nn.functional.conv2d(
        nn.functional.interpolate(x, scale_factor=2.0, mode="nearest"), layer.weight, padding=1
    )
    reference_grads = torch.autograd.grad((reference * upstream).sum(), (x, layer.weight))
    for training in (True, False):
        layer.train(training)
        out = layer(x)
        grads = torch.autograd.grad((out * upstream).sum(), (x, layer.weight))
        torch.testing.assert_close(out, reference, rtol=0, atol=1e-12)
        for grad, expected in zip(grads, reference_grads, strict=True):
            torch.testing.assert_close(grad, expected, rtol=0, atol=1e-12)
    assert list(layer.state_dict()) == ["weight"]


def test_output_upsample_changes_only_the_last_doubling():
    # 16 px: doublings 4 -> 8 -> 16; the last one bilinear, the first nearest (folded)
    mixed = generator(upsample="resize", output_upsample="bilinear")
    doublings = [
        "bilinear" if isinstance(m, nn.Upsample) else "nearest"
        for m in mixed.layers
        if isinstance(m, (nn.Upsample, NearestResizeConv))
    ]
    assert doublings == ["nearest", "bilinear"]
    same = generator(upsample="resize", output_upsample="same")
    assert [type(m) for m in same.layers] == [type(m) for m in generator(upsample="resize").layers]
    with torch.no_grad():
        assert mixed(torch.randn(2, 8), torch.randn(2, 6)).shape == (2, 3, 16, 16)


def test_the_transposed_default_keeps_the_papers_layers_and_weight_names():
    old = generator()
    assert old.config.upsample == "transposed" and old.config.attribute_dim == 0
    strides = [m.stride for m in old.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert strides == [(1, 1), (2, 2), (2, 2)]
    # Checkpoints of the shipped architecture still load: same names, same shapes.
    shapes = {name: tuple(value.shape) for name, value in old.state_dict().items()}
    assert shapes["layers.0.weight"] == (8 + 128, 8, 4, 4)
    assert shapes["layers.6.weight"] == (4, 3, 4, 4)


def test_resize_convolution_leaves_no_checkerboard_at_initialisation():
    noise = torch.randn(64, 8, generator=torch.Generator().manual_seed(1))
    feature = torch.randn(64, 6, generator=torch.Generator().manual_seed(2))
    ratios = {}
    for kind in ("transposed", "resize", "bilinear"):
        model = generator(image_size=32, upsample=kind)
        with torch.no_grad():
            ratios[kind] = checkerboard_ratio(model(noise, feature).numpy())
    assert ratios["bilinear"] < 1.5 and ratios["resize"] < 1.5 < ratios["transposed"]


def test_the_diagonal_notch_removes_the_checkerboard_and_passes_axis_aligned_patterns():
    notch = DiagonalNotch(3)
    rows, columns = torch.meshgrid(torch.arange(8), torch.arange(8), indexing="ij")
    checkerboard = 0.5 * (-1.0) ** (rows + columns)  # the (pi, pi) frequency alone
    stripes = 0.5 * (-1.0) ** columns  # (0, pi): vertical stripes of period 2
    ramp = rows / 8 - 0.4  # smooth along one axis
    images = torch.stack([checkerboard, stripes, ramp]).float()[None]  # [1, 3, 8, 8]
    with torch.no_grad():
        filtered = notch(images)[0]
    # Mirrored edges continue both periodic patterns: exact up to the border.
    torch.testing.assert_close(filtered[0], torch.zeros(8, 8))
    torch.testing.assert_close(filtered[1], images[0, 1])
    torch.testing.assert_close(filtered[2], images[0, 2])  # linear along an axis: exact
    with torch.no_grad():
        flat = notch(torch.full((1, 3, 4, 4), 0.9))
        clipped = notch(torch.full((1, 3, 4, 4), 1.0) + 2 * checkerboard[:4, :4])
    torch.testing.assert_close(flat, torch.full((1, 3, 4, 4), 0.9))
    assert float(clipped.max()) == 1.0


def test_the_notch_takes_a_faint_checkerboard_out_of_a_set_of_pictures():
    torch.manual_seed(3)
    coarse = torch.randn(64, 3, 8, 8)
    pictures = nn.functional.interpolate(coarse, size=32, mode="bilinear") * 0.3
    rows, columns = torch.meshgrid(torch.arange(32), torch.arange(32), indexing="ij")
    faint = pictures + 0.02 * (-1.0) ** (rows + columns)
    with torch.no_grad():
        notched = DiagonalNotch(3)(faint)
    assert checkerboard_ratio(faint.numpy()) > 100
    assert checkerboard_ratio(notched.numpy()) < 1.0
    # Everywhere else the pictures barely change: the notch takes only diagonal detail.
    assert float((notched - pictures).abs().mean()) < 0.01


def test_the_notch_adds_no_weights_so_checkpoints_without_it_load():
    plain = generator(upsample="resize", attribute_dim=4)
    notched = generator(upsample="resize", attribute_dim=4, output_filter="diagonal_notch")
    assert isinstance(notched.layers[-1], DiagonalNotch)
    notched.load_state_dict(plain.state_dict())  # strict: the same names and shapes
    noise, feature, attributes = torch.randn(4, 8), torch.randn(4, 6), torch.randn(4, 4)
    with torch.no_grad():
        before = plain(noise, feature, attributes)
        after = notched(noise, feature, attributes)
    torch.testing.assert_close(after, DiagonalNotch(3)(before))


def test_skip_excitation_gates_the_16_and_32_px_maps_by_the_4_and_8_px_ones():
    plain = generator(image_size=64, upsample="resize", attribute_dim=4)
    excited = generator(image_size=64, upsample="resize", attribute_dim=4, skip_excitation=True)
    missing, unexpected = excited.load_state_dict(plain.state_dict(), strict=False)
    assert unexpected == [] and all(key.startswith("excitations.") for key in missing)
    assert all(isinstance(module, SkipExcitation) for module in excited.excitations.values())
    # a zero 4x4 conv makes every gate sigmoid(0) = 0.5, whatever the source map
    for module in excited.excitations.values():
        torch.nn.init.zeros_(module.gate[1].weight)
    noise, feature, attributes = torch.randn(3, 8), torch.randn(3, 6), torch.randn(3, 4)
    gated_sizes = []
    with torch.no_grad():
        x = torch.cat([noise, plain.project(feature), attributes], dim=1)[:, :, None, None]
        for index, layer in enumerate(plain.layers):
            x = layer(x)
            if str(index) in excited.excitations:
                assert isinstance(layer, nn.ReLU)
                gated_sizes.append(x.shape[-1])
                x = x * 0.5
        torch.testing.assert_close(excited(noise, feature, attributes), x, rtol=0, atol=0)
    assert gated_sizes == [16, 32]
    # the gates follow the 4x4 and 8x8 maps: another source, another picture
    torch.manual_seed(1)
    for module in excited.excitations.values():
        torch.nn.init.normal_(module.gate[1].weight)
    with torch.no_grad():
        moved = (excited(noise, feature, attributes) - x).abs().max() / x.abs().max()
    assert moved > 0.05
    assert generator(image_size=16, skip_excitation=True).excitations.keys() == set()


def test_attributes_are_a_required_input_that_changes_the_picture():
    model = generator(attribute_dim=4, upsample="resize")
    noise, feature = torch.randn(2, 8), torch.randn(2, 6)
    with torch.no_grad():
        dark = model(noise, feature, torch.full((2, 4), -1.5))
        bright = model(noise, feature, torch.full((2, 4), 1.5))
    assert not torch.allclose(dark, bright)
    assert model.layers[0].in_channels == 8 + 128 + 4
    with pytest.raises(ValueError, match="needs attributes"):
        model(noise, feature)
    with pytest.raises(ValueError, match="takes no attributes"):
        generator()(noise, feature, torch.zeros(2, 4))


def test_truncation_and_category_pull_pass_the_attributes_through():
    model = generator(attribute_dim=4, upsample="resize")
    prototypes = torch.eye(2, 6)
    wrapped = CategoryPulledGenerator(TruncatedGenerator(model, 0.5), prototypes, 1.0).eval()
    noise, attributes = torch.randn(2, 8), torch.randn(2, 4)
    feature = torch.tensor([[1.0, 0, 0, 0, 0, 0], [0, 1.0, 0, 0, 0, 0]]) * 3
    with torch.no_grad():
        torch.testing.assert_close(
            wrapped(noise, feature, attributes), model(noise * 0.5, prototypes, attributes)
        )


def test_config_refuses_unknown_options():
    with pytest.raises(ValueError, match="upsample must be one of"):
        GeneratorConfig(upsample="bicubic")
    with pytest.raises(ValueError, match="output_filter must be one of"):
        GeneratorConfig(output_filter="blur")
    with pytest.raises(ValueError, match="output_upsample must be 'same' or one of"):
        GeneratorConfig(output_upsample="bicubic")
    with pytest.raises(ValueError, match="attribute_dim must be >= 0"):
        GeneratorConfig(attribute_dim=-1)
    with pytest.raises(ValueError, match="attribute_dim must be 0 or 4"):
        GanStageConfig(generator=GeneratorConfig(attribute_dim=3))
    with pytest.raises(ValueError, match="attribute_weight"):
        GanStageConfig(attribute_weight=-1.0)
    with pytest.raises(ValueError, match="spectrum_weight must be >= 0"):
        GanStageConfig(spectrum_weight=-0.1)
    with pytest.raises(ValueError, match="fixed_pattern_weight must be >= 0"):
        GanStageConfig(fixed_pattern_weight=-1.0)
    with pytest.raises(ValueError, match="streak_weight must be >= 0"):
        GanStageConfig(streak_weight=-1.0)


def test_the_options_round_trip_through_the_train_config():
    config = tiny_config(16)
    gan = dataclasses.replace(
        config.gan,
        generator=dataclasses.replace(
            config.gan.generator,
            attribute_dim=4,
            upsample="resize",
            output_upsample="bilinear",
            output_filter="diagonal_notch",
            skip_excitation=True,
        ),
        attribute_weight=2.0,
        encoder_onnx="models/music_encoder.onnx",
        diff_augment=("translation", "cutout"),
        spectrum_weight=0.5,
        fixed_pattern_weight=2.0,
        streak_weight=3.0,
        r1_weight=0.1,
        r1_every=2,
        lecam_weight=0.3,
        lecam_decay=0.9,
        discriminator=dataclasses.replace(config.gan.discriminator, normalization="spectral"),
        discriminator_lr_scale=4.0,
    )
    config = dataclasses.replace(config, gan=gan)
    assert type(config).from_dict(config.to_dict()) == config


def recipe_gan(name: str) -> GanStageConfig:
    """The GAN settings of training/recipes/<name>, as `--config` reads them."""
    recipe = Path(__file__).parents[2] / "training" / "recipes" / name
    return TrainConfig.from_dict(json.loads(recipe.read_text())).gan


def test_the_bundled_generators_recipe_is_a_train_config_with_its_settings():
    """training/recipes/gan_attributes_long_b64.json is what `--config` takes to retrain
    the bundled generator on the bundled encoder's conditions: the base recipe
    (gan_attributes_diffaugment.json, the previous release's) at batch 64 with a constant
    learning rate, stopped at the epoch the model card names."""
    gan = recipe_gan("gan_attributes_long_b64.json")
    assert (gan.generator.attribute_dim, gan.generator.upsample) == (4, "resize")
    assert gan.diff_augment == ("translation", "cutout")
    assert (gan.attribute_weight, gan.batch_size) == (3.0, 64)
    assert (gan.epochs, gan.lr_decay_epochs) == (150, 0)
    assert gan.encoder_onnx == "assets/models/music_encoder.onnx"
    assert (Path(__file__).parents[2] / gan.encoder_onnx).is_file()
    base = recipe_gan("gan_attributes_diffaugment.json")
    assert gan == dataclasses.replace(base, batch_size=64, epochs=150, lr_decay_epochs=0)


@pytest.mark.parametrize(
    ("recipe", "image_size", "base_channels", "epochs", "decay_epochs"),
    [
        ("gan_attributes_notch.json", 64, 32, 30, 10),
        ("gan_128_attributes_notch.json", 128, 16, 24, 8),
        ("gan_128_attributes_notch_30.json", 128, 16, 30, 10),
        ("gan_128_attributes_notch_long.json", 128, 16, 150, 0),
    ],
)
def test_the_notch_recipes_are_the_base_recipe_with_the_notch(
    recipe, image_size, base_channels, epochs, decay_epochs
):
    """The notch recipes change only the output filter, the size (and, at 128 px, the
    widths and the schedule: narrower to keep an epoch affordable on a CPU; the long one a
    constant learning rate for a GPU run stopped when its time is up) of the base recipe."""
    base = recipe_gan("gan_attributes_diffaugment.json")
    gan = recipe_gan(recipe)
    assert gan.generator.output_filter == "diagonal_notch"
    assert gan.generator.image_size == gan.discriminator.image_size == image_size
    assert gan.generator.base_channels == gan.discriminator.base_channels == base_channels
    assert (gan.epochs, gan.lr_decay_epochs) == (epochs, decay_epochs)
    assert gan == dataclasses.replace(
        base,
        generator=dataclasses.replace(
            base.generator,
            image_size=image_size,
            base_channels=base_channels,
            output_filter="diagonal_notch",
        ),
        discriminator=dataclasses.replace(
            base.discriminator, image_size=image_size, base_channels=base_channels
        ),
        epochs=epochs,
        lr_decay_epochs=decay_epochs,
    )


def with_discriminator(gan: GanStageConfig, **changes) -> GanStageConfig:
    return dataclasses.replace(gan, discriminator=dataclasses.replace(gan.discriminator, **changes))


# Each recipe of a GAN try, as the base recipe with only the changes the model card names.
RECIPE_TRIES = {
    "gan_attributes_r1.json": lambda gan: dataclasses.replace(gan, r1_weight=0.1),
    "gan_attributes_lecam.json": lambda gan: dataclasses.replace(gan, lecam_weight=0.3),
    "gan_attributes_spectral.json": lambda gan: dataclasses.replace(
        with_discriminator(gan, normalization="spectral"),
        discriminator_lr_scale=4.0,
        epochs=36,
        lr_decay_epochs=12,
    ),
    "gan_attributes_sle.json": lambda gan: dataclasses.replace(
        gan, generator=dataclasses.replace(gan.generator, skip_excitation=True)
    ),
    "gan_attributes_wide_d.json": lambda gan: with_discriminator(gan, base_channels=64),
    "gan_attributes_long.json": lambda gan: dataclasses.replace(gan, epochs=150, lr_decay_epochs=0),
}


@pytest.mark.parametrize("recipe", ["gan_attributes_long", "gan_128_attributes_notch_long"])
def test_each_batch_64_recipe_is_its_twin_with_only_the_batch_changed(recipe):
    twin = recipe_gan(f"{recipe}.json")
    assert recipe_gan(f"{recipe}_b64.json") == dataclasses.replace(twin, batch_size=64)


@pytest.mark.parametrize("recipe", sorted(RECIPE_TRIES))
def test_each_try_recipe_is_the_base_recipe_with_only_its_changes(recipe):
    base = recipe_gan("gan_attributes_diffaugment.json")
    assert recipe_gan(recipe) == RECIPE_TRIES[recipe](base)
