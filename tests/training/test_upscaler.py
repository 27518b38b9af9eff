"""The learned upscaler's training side: the network, the degradations, the figures, a tiny
training run (resumed exactly after an interruption), its ONNX export and the CLI."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from PIL import Image

from export.upscaler_export import export_upscaler
from tests.training.stop_flags import StopAfterChecks
from tests.training.synthetic import make_dataset
from training.checkpoint import LATEST, load_checkpoint
from training.context import TrainingInterrupted
from training.upscaler import (
    UpscalerCheckpointError,
    UpscalerConfig,
    UpscalerNet,
    degrade,
    gaussian_blur,
    load_upscaler,
    psnr,
    ssim,
    train_upscaler,
)
from visualizer.cli import main as musicscape
from visualizer.folders import split_by_item
from visualizer.upscale import UPSCALER_FILE
from visualizer.upscale import load_upscaler as load_onnx_upscaler

TINY = UpscalerConfig(
    scale=2,
    input_size=8,
    features=8,
    shrink=4,
    mapping=1,
    photo_size=24,
    patch=16,
    batch=4,
    epochs=2,
    steps_per_epoch=3,
    lr=5e-3,
    validation_fraction=0.25,
)


def bilinear_reference(image: np.ndarray, scale: int) -> np.ndarray:
    """Half-pixel bilinear upsampling [C,H,W] -> [C,H*scale,W*scale], edges clamped."""

    def axis_weights(size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        source = np.clip((np.arange(size * scale) + 0.5) / scale - 0.5, 0, size - 1)
        low = np.floor(source).astype(int)
        high = np.minimum(low + 1, size - 1)
        return low, high, source - low

    rows_low, rows_high, row_share = axis_weights(image.shape[1])
    cols_low, cols_high, col_share = axis_weights(image.shape[2])
    rows = (
        image[:, rows_low] * (1 - row_share)[None, :, None]
        + image[:, rows_high] * row_share[None, :, None]
    )
    return rows[:, :, cols_low] * (1 - col_share) + rows[:, :, cols_high] * col_share


@pytest.fixture(scope="module")
def scenes(tmp_path_factory) -> Path:
    """Two categories of 24-px photos with edges: stripes and a disc, on noise."""
    root = tmp_path_factory.mktemp("scenes")
    rng = np.random.default_rng(0)
    grid = np.mgrid[0:24, 0:24]
    for name in ("stripes", "discs"):
        (root / name).mkdir()
        for index in range(6):
            if name == "stripes":
                mask = ((grid[1] + index) // 3) % 2 == 0
            else:
                mask = (grid[0] - 12) ** 2 + (grid[1] - 8 - index) ** 2 < 40
            pixels = np.where(mask[..., None], [220, 180, 40], [30, 60, 140]).astype(float)
            pixels += rng.normal(0, 6, pixels.shape)
            Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(
                root / name / f"{index}.png"
            )
    return root


@pytest.fixture(scope="module")
def trained(scenes, tmp_path_factory) -> Path:
    torch.set_num_threads(1)
    return train_upscaler(scenes, tmp_path_factory.mktemp("run"), TINY)


@pytest.mark.parametrize("scale", [2, 4])
def test_an_untrained_upscaler_is_bilinear_upsampling(scale):
    model = UpscalerNet(dataclasses.replace(TINY, scale=scale)).eval()
    image = torch.rand(2, 3, 7, 9) * 2 - 1
    with torch.no_grad():
        out = model(image).numpy()
    assert out.shape == (2, 3, 7 * scale, 9 * scale)
    for index in range(2):
        expected = bilinear_reference(image[index].numpy(), scale)
        np.testing.assert_allclose(out[index], expected, atol=1e-6)


def test_a_flat_image_gives_a_flat_output_to_the_very_edges():
    """Edge padding: every layer sees a flat image as flat up to its borders, so each of the
    scale x scale output phases is one value everywhere (zero padding would shade a frame)."""
    torch.manual_seed(0)
    model = UpscalerNet(dataclasses.replace(TINY, scale=4)).eval()
    for parameter in model.parameters():
        torch.nn.init.normal_(parameter, std=0.3)
    with torch.no_grad():
        out = model(torch.full((1, 3, 9, 9), 0.2))[0]
    for row in range(4):
        for column in range(4):
            phase = out[:, row::4, column::4]
            assert float(phase.amax(dim=(1, 2)).sub(phase.amin(dim=(1, 2))).max()) < 1e-6


def test_gaussian_blur_keeps_constants_and_spreads_a_point_by_the_kernel():
    sigmas = torch.tensor([0.5, 1.0])
    constant = torch.full((2, 3, 9, 9), 0.25)
    torch.testing.assert_close(gaussian_blur(constant, sigmas), constant)
    point = torch.zeros(2, 3, 9, 9)
    point[:, :, 4, 4] = 1.0
    blurred = gaussian_blur(point, sigmas)
    for index, sigma in enumerate((0.5, 1.0)):
        taps = np.exp(-0.5 * (np.arange(-2, 3) / sigma) ** 2)
        taps /= taps.sum()
        expected = np.zeros((9, 9))
        expected[2:7, 2:7] = np.outer(taps, taps)
        np.testing.assert_allclose(blurred[index, 1].numpy(), expected, atol=1e-6)


def test_degradations_at_zero_probability_leave_the_input_as_it_is():
    config = dataclasses.replace(
        TINY, blur_probability=0.0, noise_probability=0.0, jpeg_probability=0.0
    )
    small = torch.rand(4, 3, 8, 8)
    out = degrade(small.clone(), config, torch.Generator().manual_seed(0))
    assert torch.equal(out, small)
    always = dataclasses.replace(TINY, blur_probability=1.0, noise_probability=0.0)
    blurred = degrade(small.clone(), always, torch.Generator().manual_seed(0))
    assert float((blurred - small).abs().mean()) > 0.02


def test_psnr_and_ssim_known_answers():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)
    assert psnr(image + 1, image + 0) == pytest.approx(20 * math.log10(255), abs=1e-9)
    assert psnr(image, image) == math.inf
    assert ssim(image, image) == pytest.approx(1.0, abs=1e-12)
    # Flat images: no variance, so SSIM is the luminance term (2ab + C1) / (a^2 + b^2 + C1).
    c1 = (0.01 * 255) ** 2
    flat_a, flat_b = np.full((16, 16, 3), 100, np.uint8), np.full((16, 16, 3), 110, np.uint8)
    expected = (2 * 100 * 110 + c1) / (100**2 + 110**2 + c1)
    assert ssim(flat_a, flat_b) == pytest.approx(expected, abs=1e-9)


def test_tiny_training_writes_checkpoints_and_held_out_figures(trained, scenes):
    model, info = load_upscaler(trained)
    assert UpscalerConfig.from_dict(info["config"]) == TINY
    assert sorted(p.name for p in trained.parent.glob("epoch_*.pt")) == [
        "epoch_001.pt",
        "epoch_002.pt",
    ]
    assert info["train_photo_count"] == 8  # 6 per category, a quarter held out
    held_out = [
        path.relative_to(scenes).as_posix()
        for name in ("discs", "stripes")
        for path in split_by_item(sorted((scenes / name).iterdir()), 0.25, TINY.seed)[1]
    ]
    assert info["validation_photos"] == held_out and len(held_out) == 4
    for subset in ("clean", "degraded"):
        figures = info["figures"][subset]
        assert set(figures) == {"psnr", "ssim", "bicubic_psnr", "bicubic_ssim"}
        assert all(np.isfinite(value) for value in figures.values())
    history = load_checkpoint(trained.parent / LATEST, "upscaler")["history"]
    assert [round(entry["epoch"]) for entry in history] == [1, 2]
    assert float(model.head.weight.detach().abs().sum()) > 0  # it learned something beyond bilinear


def test_interrupted_training_resumes_exactly_and_refuses_another_config(scenes, trained, tmp_path):
    # 3 steps an epoch: stop before epoch 2's 2nd step.
    with pytest.raises(TrainingInterrupted, match="interrupted at epoch 2 step 1"):
        train_upscaler(scenes, tmp_path, TINY, stop=StopAfterChecks(4))
    resumed, _ = load_upscaler(train_upscaler(scenes, tmp_path, TINY))
    straight, _ = load_upscaler(trained)
    for name, value in straight.state_dict().items():
        assert torch.equal(value, resumed.state_dict()[name]), name
    with pytest.raises(UpscalerCheckpointError, match="another UpscalerConfig .differs in lr"):
        train_upscaler(scenes, tmp_path, dataclasses.replace(TINY, lr=1e-3))


def test_export_matches_torch_at_any_size_and_carries_its_metadata(trained, tmp_path):
    path = tmp_path / UPSCALER_FILE
    assert export_upscaler(trained, path, "tiny-1") <= 1e-4
    model, info = load_upscaler(trained)
    dims = [d.dim_param or d.dim_value for d in onnx.load(str(path)).graph.input[0].type
            .tensor_type.shape.dim]  # fmt: skip
    assert dims[1] == 3 and all(isinstance(d, str) and d for d in (dims[0], *dims[2:]))
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    image = torch.rand(1, 3, 13, 21) * 2 - 1
    with torch.no_grad():
        expected = model(image).numpy()
    (got,) = session.run(["upscaled"], {"image": image.numpy()})
    assert got.shape == (1, 3, 26, 42)
    np.testing.assert_allclose(got, expected, atol=1e-4)

    upscaler = load_onnx_upscaler(tmp_path)
    meta = upscaler.metadata
    assert upscaler.learned and (meta.scale, meta.input_size, meta.model_version) == (
        2,
        8,
        "tiny-1",
    )
    assert meta.training_data["validation_photos"] == info["validation_photos"]
    assert meta.training_data["train_photo_count"] == 8
    assert meta.training_data["config"] == dataclasses.asdict(TINY)
    assert meta.eval_figures == json.loads(json.dumps(info["figures"]))
    square = image[0, :, :, :13]
    pixels = upscaler.upscale(square.numpy(), 26)
    with torch.no_grad():
        expected = model(square[None])[0].numpy()
    rounded = np.clip(np.floor(expected.transpose(1, 2, 0) * 127.5 + 128.0), 0, 255)
    assert np.abs(pixels.astype(int) - rounded).max() <= 1


@pytest.mark.slow
def test_cli_trains_and_exports_the_upscaler_alone(tmp_path):
    data = make_dataset(tmp_path / "data", n_categories=2, images=4, image_size=24)
    config = tmp_path / "upscaler.json"
    small = dataclasses.replace(TINY, epochs=1, steps_per_epoch=2, validation_fraction=0.5)
    config.write_text(json.dumps(dataclasses.asdict(small)))
    run = tmp_path / "run"
    assert musicscape(["train", "--data", str(data), "--out", str(run), "--stages", "upscaler",
                       "--upscaler-config", str(config), "--no-progress"]) == 0  # fmt: skip
    recorded = json.loads((run / "upscaler" / "upscaler_config.json").read_text())
    assert UpscalerConfig.from_dict(recorded) == small
    out = tmp_path / "models"
    assert musicscape(["export", "--run", str(run), "--out", str(out), "--upscaler-only"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [UPSCALER_FILE]
    assert load_onnx_upscaler(out).metadata.model_version == "run"
