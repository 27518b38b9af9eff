"""visualizer/upscale.py: generator image -> output-size RGB, learned or resized (no torch).

The learned path is checked with a hand-built upscaler.onnx (nearest x2, known answers) and
with the shipped assets/models/upscaler.onnx (a flat image stays flat; a slanted edge comes
out closer to the truth than nearest or bicubic enlargement)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from PIL import Image

from visualizer.model_files import ModelFileError
from visualizer.resize import Filter, resize_rgb8
from visualizer.upscale import (
    UPSCALER_FILE,
    Upscaler,
    UpscalerMetadata,
    bicubic_resize,
    load_upscaler,
    to_rgb8,
)

METADATA = UpscalerMetadata(scale=2, input_size=8, model_version="nearest-x2")


def save_upscaler(folder: Path, metadata: UpscalerMetadata | None, output: str = "upscaled"):
    """A real ONNX upscaler: nearest-neighbour x2 of input 'image' [batch, 3, h, w]."""
    scales = helper.make_tensor("scales", TensorProto.FLOAT, [4], [1.0, 1.0, 2.0, 2.0])
    node = helper.make_node("Resize", ["image", "", "scales"], [output], mode="nearest")
    graph = helper.make_graph(
        [node],
        "nearest_x2",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["b", 3, "h", "w"])],
        [helper.make_tensor_value_info(output, TensorProto.FLOAT, ["b", 3, "H", "W"])],
        [scales],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    if metadata is not None:
        helper.set_model_props(model, metadata.to_props())
    onnx.checker.check_model(model)
    onnx.save(model, str(folder / UPSCALER_FILE))


def generator_image(side: int = 8, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1, 1, (3, side, side)).astype(np.float32)


def test_to_rgb8_maps_the_generator_range_to_bytes():
    image = np.array([-1.0, -0.5, 0.0, 0.999, 1.0, 3.0, -3.0], np.float32).reshape(1, 1, 7)
    pixels = to_rgb8(np.repeat(image, 3, axis=0))
    assert pixels.dtype == np.uint8 and pixels.flags.c_contiguous
    assert pixels[0, :, 0].tolist() == [0, 64, 128, 255, 255, 255, 0]


def test_without_a_model_it_is_a_bicubic_resize(tmp_path):
    upscaler = load_upscaler(tmp_path)  # a folder without upscaler.onnx
    assert not upscaler.learned and upscaler.description == "bicubic resize"
    assert not load_upscaler(None).learned
    image = generator_image()
    pixels = upscaler.upscale(image, 20)
    expected = Image.fromarray(to_rgb8(image)).resize((20, 20), Image.Resampling.BICUBIC)
    assert pixels.shape == (20, 20, 3) and np.array_equal(pixels, np.asarray(expected))
    flat = np.full((3, 8, 8), 0.5, np.float32)
    assert np.all(upscaler.upscale(flat, 33) == 191)  # round(0.5 * 127.5 + 127.5)
    assert np.array_equal(upscaler.upscale(image, 8), to_rgb8(image))


def test_a_learned_model_runs_then_the_result_is_resized(tmp_path):
    save_upscaler(tmp_path, METADATA)
    upscaler = load_upscaler(tmp_path)
    assert upscaler.learned and upscaler.metadata == METADATA
    assert upscaler.description == "learned x2 (nearest-x2)"
    image = generator_image()
    doubled = np.repeat(np.repeat(to_rgb8(image), 2, axis=0), 2, axis=1)
    assert np.array_equal(upscaler.upscale(image, 16), doubled)
    assert np.array_equal(upscaler.upscale(image, 40), resize_rgb8(doubled, 40, Filter.BICUBIC))
    assert np.array_equal(upscaler.upscale(image, 12), resize_rgb8(doubled, 12, Filter.BICUBIC))
    # At or below the generator's size the model adds nothing: a plain resize.
    assert np.array_equal(
        upscaler.upscale(image, 6), resize_rgb8(to_rgb8(image), 6, Filter.BICUBIC)
    )
    with pytest.raises(ValueError, match="expected an image"):
        upscaler.upscale(image[0], 16)
    with pytest.raises(ValueError, match="at least 1"):
        upscaler.upscale(image, 0)


def test_the_final_resize_takes_the_model_output_to_other_sizes_only(tmp_path):
    save_upscaler(tmp_path, METADATA)
    calls = []

    def nearest(pixels: np.ndarray, size: int) -> np.ndarray:
        calls.append((pixels.copy(), size))
        rows = np.arange(size) * pixels.shape[0] // size
        return pixels[rows][:, rows]

    upscaler = load_upscaler(tmp_path, final_resize=nearest)
    image = generator_image()
    doubled = np.repeat(np.repeat(to_rgb8(image), 2, axis=0), 2, axis=1)
    assert np.array_equal(upscaler.upscale(image, 16), doubled) and calls == []
    quadrupled = np.repeat(np.repeat(doubled, 2, axis=0), 2, axis=1)
    assert np.array_equal(upscaler.upscale(image, 32), quadrupled)
    assert len(calls) == 1 and calls[0][1] == 32 and np.array_equal(calls[0][0], doubled)
    # The plain resize (no model, or at the generator's size) stays bicubic.
    assert np.array_equal(
        upscaler.upscale(image, 6), resize_rgb8(to_rgb8(image), 6, Filter.BICUBIC)
    )
    assert len(calls) == 1


def test_a_bad_upscaler_file_is_refused_naming_it(tmp_path):
    save_upscaler(tmp_path, None)
    with pytest.raises(ModelFileError, match="upscaler.onnx: not a musicscape upscaler"):
        load_upscaler(tmp_path)
    save_upscaler(tmp_path, METADATA, output="image_out")
    with pytest.raises(ModelFileError, match="output 'upscaled'"):
        load_upscaler(tmp_path)
    (tmp_path / UPSCALER_FILE).write_bytes(b"not an onnx file")
    with pytest.raises(ModelFileError, match="upscaler.onnx: not a readable ONNX model"):
        load_upscaler(tmp_path)


def test_metadata_round_trips_and_a_scale_below_two_is_refused():
    metadata = UpscalerMetadata(4, 64, "v1", {"train_photo_count": 5}, {"clean": {"psnr": 27.0}})
    assert UpscalerMetadata.from_props(metadata.to_props(), "x") == metadata
    props = {**metadata.to_props(), "musicscape.upscaler.scale": "1"}
    with pytest.raises(ModelFileError, match="x: upscaler scale 1 is below 2"):
        UpscalerMetadata.from_props(props, "x")
    with pytest.raises(ValueError, match="both the session and its metadata"):
        Upscaler(metadata=metadata)


def test_bench_times_the_resize_and_the_learned_upscaler_on_one_and_two_threads(tmp_path):
    from visualizer.bench import upscaler_stages

    assert sorted(upscaler_stages(tmp_path, runs=3, image_size=64)) == ["resize_256", "resize_512"]
    save_upscaler(tmp_path, METADATA)
    stages = upscaler_stages(tmp_path, runs=3, image_size=64)
    assert sorted(stages) == [
        "resize_256",
        "resize_512",
        "upscaler_256_1t",
        "upscaler_256_2t",
        "upscaler_512_1t",
        "upscaler_512_2t",
    ]
    assert all(figures["runs"] == 3 for figures in stages.values())


def shipped_upscaler() -> Upscaler:
    from visualizer.bundled import assets_dir

    return load_upscaler(assets_dir() / "models")


def test_the_shipped_upscaler_is_learned_x4_and_beat_bicubic_on_held_out_photos():
    upscaler = shipped_upscaler()
    assert upscaler.learned and upscaler.description == "learned x4 (upscaler-x4-2)"
    meta = upscaler.metadata
    assert (meta.scale, meta.input_size) == (4, 64)
    assert meta.training_data["categories"] == ["desert", "mountain", "sky", "water"]
    assert len(meta.training_data["validation_photos"]) == 589
    for subset in ("clean", "degraded"):
        figures = meta.eval_figures[subset]
        assert figures["psnr"] > figures["bicubic_psnr"] + 0.5
        assert figures["ssim"] > figures["bicubic_ssim"] + 0.02


@pytest.mark.parametrize("value", [-0.6, 0.0, 0.5, 0.9])
def test_the_shipped_upscaler_keeps_a_flat_image_flat(value):
    flat = np.full((3, 64, 64), value, np.float32)
    expected = int(to_rgb8(flat)[0, 0, 0])
    for size in (256, 512):
        pixels = shipped_upscaler().upscale(flat, size).astype(int)
        assert np.abs(pixels - expected).max() <= 1


def test_the_shipped_upscaler_draws_a_slanted_edge_closer_than_nearest_or_bicubic():
    # The truth: a sharp edge at 256 px, tilted 0.3 rad; the input: its 4x4 block means.
    rows, columns = np.mgrid[0:256, 0:256] + 0.5
    side = (columns - 128) * np.cos(0.3) + (rows - 128) * np.sin(0.3) > 0
    truth = np.repeat(np.where(side, 200.0, 50.0)[..., None], 3, axis=2)
    small = truth.reshape(64, 4, 64, 4, 3).mean(axis=(1, 3))
    image = (small / 127.5 - 1.0).transpose(2, 0, 1).astype(np.float32)

    def psnr(pixels: np.ndarray) -> float:
        return float(10 * np.log10(255**2 / np.mean((pixels.astype(float) - truth) ** 2)))

    learned = psnr(shipped_upscaler().upscale(image, 256))
    nearest = psnr(np.repeat(np.repeat(to_rgb8(image), 4, axis=0), 4, axis=1))
    bicubic = psnr(load_upscaler(None).upscale(image, 256))
    assert learned > bicubic + 2.0 > nearest + 3.0


def test_the_middle_at_a_shape_is_the_square_enlarged_to_its_longer_side_and_cut():
    image = np.random.default_rng(5).uniform(-1, 1, (3, 8, 8)).astype(np.float32)
    square = bicubic_resize(to_rgb8(image), 16)
    wide = Upscaler().upscale_middle(image, 16, 8)
    assert wide.flags.c_contiguous and np.array_equal(wide, square[4:12])
    tall = Upscaler().upscale_middle(image, 8, 16)
    assert tall.flags.c_contiguous and np.array_equal(tall, square[:, 4:12])
    assert np.array_equal(Upscaler().upscale_middle(image, 16, 16), square)
