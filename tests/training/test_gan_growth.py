"""Growing a trained G and D to twice the size: the grown pair starts as the small pair's
function (G: the same picture, each pixel repeated 2x2; D: the same logits on a picture's
2x2 average)."""

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch
from torch import nn

from export.onnx_export import export_module
from training.config import DiscriminatorConfig, GeneratorConfig
from training.gan_growth import (
    GrowthError,
    check_growable,
    generator_from_onnx,
    grow_discriminator,
    grow_generator,
)
from training.models import CategoryPulledGenerator, Discriminator, Generator, TruncatedGenerator
from training.models.gan import DiagonalNotch, NearestResizeConv
from visualizer.frontend import FrontEndContract
from visualizer.model_files import ModelMetadata

SMALL_G = GeneratorConfig(
    image_size=16, noise_dim=8, feature_dim=12, projected_dim=6, base_channels=16,
    attribute_dim=2, upsample="resize",
)  # fmt: skip
LARGE_G = GeneratorConfig(
    image_size=32, noise_dim=8, feature_dim=12, projected_dim=6, base_channels=8,
    attribute_dim=2, upsample="resize",
)  # fmt: skip
SMALL_D = DiscriminatorConfig(image_size=16, feature_dim=12, projected_dim=6, base_channels=16)
LARGE_D = DiscriminatorConfig(image_size=32, feature_dim=12, projected_dim=6, base_channels=8)
CLASSES = 3


def trained_like(module: nn.Module) -> nn.Module:
    """Random weights with BatchNorm scales and shifts away from 1 and 0, as training leaves
    them, so a test cannot pass on the default initialisation."""
    with torch.no_grad():
        for norm in (m for m in module.modules() if isinstance(m, nn.BatchNorm2d)):
            norm.weight.uniform_(0.5, 1.5)
            norm.bias.uniform_(-0.3, 0.3)
    return module


def test_a_grown_generator_draws_the_small_ones_picture_with_each_pixel_repeated_2x2():
    torch.manual_seed(0)
    small = trained_like(Generator(SMALL_G)).train()
    large = Generator(LARGE_G)
    inputs = (torch.randn(16, 8), torch.randn(16, 12), torch.randn(16, 2))
    grow_generator(small.state_dict(), SMALL_G, large, [inputs])
    assert large.training
    with torch.no_grad():
        expected = nn.functional.interpolate(small(*inputs), scale_factor=2.0, mode="nearest")
        drawn = large(*inputs)
    assert drawn.shape == (16, 3, 32, 32)
    # BatchNorm normalises by the biased variance, the running statistics keep the
    # unbiased one: a factor sqrt(n / (n - 1)) over n = 16 x 16 x 16 values
    torch.testing.assert_close(drawn, expected, rtol=0, atol=2e-3)
    assert float((drawn - expected).abs().mean()) < 3e-4
    # the new stage's other channels reach the picture through zero weights only
    new_stage, last = [m.weight.detach() for m in large.layers if isinstance(m, NearestResizeConv)][
        -2:
    ]
    assert float(last[:, 6:].abs().max()) == 0.0
    assert float(new_stage[6:].abs().max()) > 0.0


def test_a_grown_generator_with_a_bilinear_last_doubling_draws_the_small_picture_enlarged():
    torch.manual_seed(1)
    small = trained_like(Generator(SMALL_G)).train()
    bilinear_g = GeneratorConfig(**{**LARGE_G.__dict__, "output_upsample": "bilinear"})
    large = Generator(bilinear_g)
    inputs = (torch.randn(16, 8), torch.randn(16, 12), torch.randn(16, 2))
    grow_generator(small.state_dict(), SMALL_G, large, [inputs])
    before_tanh = {}
    small.layers[-1].register_forward_hook(lambda m, i, o: before_tanh.setdefault("x", i[0]))
    with torch.no_grad():
        small(*inputs)
        enlarged = nn.functional.interpolate(before_tanh["x"], scale_factor=2.0, mode="bilinear")
        drawn = large(*inputs)
    torch.testing.assert_close(drawn, torch.tanh(enlarged), rtol=0, atol=2e-3)
    assert float((drawn - torch.tanh(enlarged)).abs().mean()) < 3e-4
    # not the 2x2 blocks of a nearest doubling
    blocks = nn.functional.interpolate(small(*inputs), scale_factor=2.0, mode="nearest")
    assert float((drawn - blocks).abs().mean()) > 0.01


def test_a_grown_discriminator_judges_a_picture_as_the_small_one_judges_its_2x2_average():
    torch.manual_seed(1)
    small = trained_like(Discriminator(SMALL_D, CLASSES)).train()
    large = Discriminator(LARGE_D, CLASSES)
    images = torch.rand(16, 3, 32, 32) * 2 - 1
    features = torch.randn(16, 12)
    grow_discriminator(small.state_dict(), SMALL_D, CLASSES, large, [(images, features)])
    assert large.training
    with torch.no_grad():
        match_small, category_small = small(nn.functional.avg_pool2d(images, 2), features)
        match_large, category_large = large(images, features)
    torch.testing.assert_close(match_large, match_small, rtol=0, atol=5e-3)
    torch.testing.assert_close(category_large, category_small, rtol=0, atol=5e-3)
    # on other pictures of the same kind it still agrees closely (batch statistics differ)
    others = torch.rand(16, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        match_other = large(others, features)[0]
        expected = small(nn.functional.avg_pool2d(others, 2), features)[0]
    assert float((match_other - expected).abs().max()) < 0.05


@pytest.mark.parametrize(
    ("large_g", "large_d", "message"),
    [
        (
            GeneratorConfig(**{**LARGE_G.__dict__, "image_size": 64}),
            LARGE_D,
            "image size 16 cannot grow to 64 (only to 32)",
        ),
        (
            GeneratorConfig(**{**LARGE_G.__dict__, "base_channels": 16}),
            LARGE_D,
            "generator base channels 16 need the grown run's to be 8, got 16",
        ),
        (
            LARGE_G,
            DiscriminatorConfig(**{**LARGE_D.__dict__, "base_channels": 4}),
            "discriminator base channels 16 need the grown run's to be 8, got 4; the grown "
            "discriminator needs >= 6 base channels",
        ),
        (
            GeneratorConfig(**{**LARGE_G.__dict__, "output_filter": "diagonal_notch"}),
            LARGE_D,
            "both generators need output_filter 'none' (apply it at export)",
        ),
        (
            GeneratorConfig(**{**LARGE_G.__dict__, "output_upsample": "transposed"}),
            LARGE_D,
            "the grown generator's output_upsample must be one of ('resize', 'bilinear') "
            "(its kind: 'transposed')",
        ),
        (
            GeneratorConfig(**{**LARGE_G.__dict__, "attribute_dim": 4}),
            LARGE_D,
            "generator attribute_dim 2 differs from the grown run's 4",
        ),
    ],
)
def test_a_checkpoint_that_cannot_grow_into_the_run_is_refused_naming_it(
    tmp_path, large_g, large_d, message
):
    source = tmp_path / "epoch_084.pt"
    with pytest.raises(GrowthError) as refused:
        check_growable(SMALL_G, SMALL_D, large_g, large_d, source)
    assert str(refused.value) == f"{source}: cannot grow into this run: {message}"


def test_a_small_generator_with_a_bilinear_last_doubling_is_refused(tmp_path):
    small_g = GeneratorConfig(**{**SMALL_G.__dict__, "output_upsample": "bilinear"})
    with pytest.raises(GrowthError) as refused:
        check_growable(small_g, SMALL_D, LARGE_G, LARGE_D, tmp_path / "small.pt")
    assert str(refused.value) == (
        f"{tmp_path / 'small.pt'}: cannot grow into this run: the small generator needs "
        "output_upsample 'same'"
    )


def exported(generator: Generator, path: Path) -> Path:
    """`generator` exported as the app's generator.onnx is (truncation, category pull and
    the config's output filter inside the graph; here truncation 1 and pull 0, so the file
    draws what `generator` draws); its metadata a generator file's."""
    config = generator.config
    wrapped = CategoryPulledGenerator(
        TruncatedGenerator(generator, 1.0), torch.randn(CLASSES, config.feature_dim), 0.0
    ).eval()
    example = (torch.randn(2, 8), torch.randn(2, 12), torch.randn(2, 2))
    metadata = ModelMetadata(
        frontend=FrontEndContract(),
        categories=("a", "b", "c"),
        feature_dim=config.feature_dim,
        noise_dim=config.noise_dim,
        image_size=config.image_size,
        model_version="test",
    )
    export_module(
        wrapped, example, ["noise", "feature", "attributes"], ["image"], path, metadata.to_props()
    )
    return path


def calibrated_like_training(generator: Generator, inputs: tuple) -> Generator:
    """`trained_like` with running statistics moved toward those of `inputs` (one pass in
    training mode), so eval mode differs from the default initialisation's in every
    BatchNorm."""
    trained_like(generator)
    with torch.no_grad():
        generator.train()(*inputs)
    return generator.eval()


def test_a_generator_read_back_from_its_exported_file_draws_what_the_file_draws(tmp_path):
    torch.manual_seed(2)
    notched = GeneratorConfig(**{**SMALL_G.__dict__, "output_filter": "diagonal_notch"})
    calibration = (torch.randn(64, 8), torch.randn(64, 12), torch.randn(64, 2))
    original = calibrated_like_training(Generator(notched), calibration)
    path = exported(original, tmp_path / "generator.onnx")
    config, state = generator_from_onnx(path, [calibration])
    # the notch is the export's, not G's weights: the config read back has none
    assert config == SMALL_G
    imported = Generator(config)
    imported.load_state_dict(state)
    inputs = (torch.randn(5, 8), torch.randn(5, 12), torch.randn(5, 2))
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    drawn_by_file = session.run(
        None,
        dict(zip(["noise", "feature", "attributes"], (x.numpy() for x in inputs), strict=True)),
    )[0]
    with torch.no_grad():
        drawn = DiagonalNotch(3)(imported.eval()(*inputs)).numpy()
        # in training mode it normalises by the batch's own statistics: on the calibration
        # batch that is what eval mode does
        on_calibration_train = imported.train()(*calibration)
        on_calibration_eval = imported.eval()(*calibration)
    np.testing.assert_allclose(drawn, drawn_by_file, rtol=0, atol=1e-5)
    torch.testing.assert_close(on_calibration_train, on_calibration_eval, rtol=0, atol=1e-4)
    # every BatchNorm's scale and shift came back from the fold, none is left at its default
    norms = [m for m in imported.modules() if isinstance(m, nn.BatchNorm2d)]
    assert len(norms) == 2 and all(float((n.weight - 1).abs().max()) > 1e-3 for n in norms)


def test_a_generator_read_back_from_an_exported_file_grows_to_twice_its_size(tmp_path):
    torch.manual_seed(3)
    calibration = (torch.randn(64, 8), torch.randn(64, 12), torch.randn(64, 2))
    original = calibrated_like_training(Generator(SMALL_G), calibration)
    config, state = generator_from_onnx(exported(original, tmp_path / "g.onnx"), [calibration])
    large = Generator(LARGE_G)
    grow_generator(state, config, large, [calibration])
    with torch.no_grad():
        expected = nn.functional.interpolate(original(*calibration), scale_factor=2.0)
        drawn = large.eval()(*calibration)
    # the biased and unbiased variances again (n = 64 x 16 x 16 here), as in the growth above
    torch.testing.assert_close(drawn, expected, rtol=0, atol=2e-3)


def test_a_file_that_is_not_a_growable_generator_is_refused_naming_it(tmp_path):
    garbage = tmp_path / "generator.onnx"
    garbage.write_bytes(b"not a model")
    with pytest.raises(GrowthError, match=f"^{garbage}: not an exported generator"):
        generator_from_onnx(garbage, [])
    torch.manual_seed(4)
    transposed = GeneratorConfig(**{**SMALL_G.__dict__, "upsample": "transposed"})
    path = exported(Generator(transposed).eval(), tmp_path / "transposed.onnx")
    with pytest.raises(GrowthError) as refused:
        generator_from_onnx(path, [])
    assert str(refused.value) == (
        f"{path}: only a 'resize' generator without skip excitation can grow"
    )
