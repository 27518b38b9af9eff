"""The model loader: real ONNX Runtime sessions over small real models, good and bad."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from visualizer.app.model_runtime import ModelRuntime
from visualizer.feel import ColourTarget, grade
from visualizer.frontend import FrontEndContract
from visualizer.model_files import ENCODER_FILE, GENERATOR_FILE, ModelFileError

from .onnx_models import (
    CATEGORIES,
    attribute_metadata,
    build_attribute_generator,
    build_encoder,
    build_generator,
    small_metadata,
)


def test_valid_directory_loads_and_runs_on_cpu(model_dir):
    runtime = ModelRuntime(model_dir)
    assert runtime.active_provider == "CPUExecutionProvider"
    assert runtime.metadata.categories == CATEGORIES
    assert runtime.metadata.frontend == FrontEndContract()
    assert runtime.providers.warning is None


def test_encoder_output_is_the_graph_it_claims(model_dir):
    runtime = ModelRuntime(model_dir)
    window = np.random.default_rng(3).uniform(-1, 1, FrontEndContract().input_shape)
    window = window.astype(np.float32)
    feature, scores = runtime.encode(window)
    # The test encoder: mean over frames of the power channel -> weights -> centroids.
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(model_dir / ENCODER_FILE)).graph
    weights = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    expected = window[0].mean(axis=1) @ weights["weights"]
    np.testing.assert_allclose(feature, expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(scores, expected @ weights["centroids"], rtol=1e-4, atol=1e-4)


def test_generator_image_shape_and_range(model_dir):
    runtime = ModelRuntime(model_dir)
    meta = runtime.metadata
    image = runtime.generate(np.ones(meta.noise_dim, np.float32), np.ones(meta.feature_dim))
    assert image.shape == (3, meta.image_size, meta.image_size)
    assert -1.0 <= image.min() < image.max() <= 1.0


def test_the_picture_size_is_the_generators_when_the_encoders_metadata_differs(tmp_path):
    # A generator trained at another size on the same encoder (a 128-px one grown from a
    # 64-px one) keeps the encoder file, whose metadata still names the old size.
    build_encoder(tmp_path / ENCODER_FILE, small_metadata(image_size=64))
    build_generator(tmp_path / GENERATOR_FILE, small_metadata(image_size=32))
    runtime = ModelRuntime(tmp_path)
    assert runtime.metadata.image_size == 64 and runtime.image_size == 32
    image = runtime.generate(np.ones(16, np.float32), np.ones(32, np.float32))
    assert image.shape == (3, 32, 32)


def _directory(tmp_path, **encoder_options):
    metadata = small_metadata()
    build_encoder(tmp_path / ENCODER_FILE, metadata, **encoder_options)
    build_generator(tmp_path / GENERATOR_FILE, metadata)
    return tmp_path


def test_mismatched_input_shape_is_refused_with_both_shapes(tmp_path):
    directory = _directory(tmp_path, input_shape=(2, 512, 689))
    with pytest.raises(ModelFileError) as caught:
        ModelRuntime(directory)
    assert str(caught.value) == (
        "music_encoder.onnx expects window [*, 2, 512, 689] but its contract says "
        "window [2, 1024, 689]"
    )


def test_model_without_metadata_is_refused(tmp_path):
    directory = _directory(tmp_path, with_metadata=False)
    with pytest.raises(ModelFileError, match=r"^music_encoder.onnx: not a musicscape model"):
        ModelRuntime(directory)


def test_corrupt_file_is_refused(tmp_path):
    directory = _directory(tmp_path)
    (directory / GENERATOR_FILE).write_bytes(b"\x08\x07this is not a protobuf" * 10)
    with pytest.raises(ModelFileError, match=r"^generator.onnx: not a readable ONNX model"):
        ModelRuntime(directory)


def test_missing_file_and_missing_directory(tmp_path):
    directory = _directory(tmp_path)
    (directory / GENERATOR_FILE).unlink()
    with pytest.raises(ModelFileError, match=r"^generator.onnx: missing from "):
        ModelRuntime(directory)
    with pytest.raises(ModelFileError, match="model directory not found"):
        ModelRuntime(tmp_path / "nowhere")


def test_encoder_and_generator_from_different_exports_are_refused(tmp_path):
    build_encoder(tmp_path / ENCODER_FILE, small_metadata(feature_dim=32))
    build_generator(tmp_path / GENERATOR_FILE, small_metadata(feature_dim=48))
    with pytest.raises(ModelFileError, match="feature_dim 48 does not match"):
        ModelRuntime(tmp_path)


def test_provider_missing_from_this_build_is_skipped_for_cpu(model_dir):
    runtime = ModelRuntime(model_dir, providers=["CUDAExecutionProvider", "CPUExecutionProvider"])
    assert runtime.active_provider == "CPUExecutionProvider"
    assert runtime.providers.running == ("CPUExecutionProvider",)


def _set_encoder_prop(model_dir, key: str, value: str) -> None:
    """Rewrite one metadata_props entry of the directory's encoder file."""
    import onnx

    model = onnx.load(str(model_dir / ENCODER_FILE))
    (prop,) = [prop for prop in model.metadata_props if prop.key == key]
    prop.value = value
    onnx.save(model, str(model_dir / ENCODER_FILE))


def test_scene_memory_round_trips_and_a_negative_one_is_refused(tmp_path):
    import dataclasses

    metadata = dataclasses.replace(small_metadata(), scene_memory_seconds=12.5)
    build_encoder(tmp_path / ENCODER_FILE, metadata)
    build_generator(tmp_path / GENERATOR_FILE, metadata)
    assert ModelRuntime(tmp_path).metadata.scene_memory_seconds == 12.5
    _set_encoder_prop(tmp_path, "musicscape.scene_memory_seconds", "-3")
    with pytest.raises(ModelFileError) as caught:
        ModelRuntime(tmp_path)
    assert str(caught.value) == (
        "music_encoder.onnx: musicscape.scene_memory_seconds must be a number from 0 to "
        "3600, got -3"
    )


def test_the_music_level_round_trips_is_none_when_the_file_does_not_say_and_out_of_range_is_refused(
    tmp_path,
):
    import dataclasses

    import onnx

    metadata = dataclasses.replace(small_metadata(), music_level_db=-17.34)
    build_encoder(tmp_path / ENCODER_FILE, metadata)
    build_generator(tmp_path / GENERATOR_FILE, metadata)
    assert ModelRuntime(tmp_path).metadata.music_level_db == -17.34
    model = onnx.load(str(tmp_path / ENCODER_FILE))
    kept = [p for p in model.metadata_props if p.key != "musicscape.music_level_db"]
    del model.metadata_props[:]
    model.metadata_props.extend(kept)
    onnx.save(model, str(tmp_path / ENCODER_FILE))
    assert ModelRuntime(tmp_path).metadata.music_level_db is None  # an older export
    build_encoder(tmp_path / ENCODER_FILE, metadata)
    _set_encoder_prop(tmp_path, "musicscape.music_level_db", "12")
    with pytest.raises(ModelFileError) as caught:
        ModelRuntime(tmp_path)
    assert str(caught.value) == (
        "music_encoder.onnx: musicscape.music_level_db must be a number from -100 to 0, got 12"
    )


FRONTEND = json.dumps(FrontEndContract().to_dict())


def test_the_pull_temperature_is_the_files_own_or_the_default_when_it_does_not_say(tmp_path):
    import dataclasses

    metadata = dataclasses.replace(
        small_metadata(), training_data={"category_pull_temperature": 0.05}
    )
    build_encoder(tmp_path / ENCODER_FILE, metadata)
    build_generator(tmp_path / GENERATOR_FILE, metadata)
    assert ModelRuntime(tmp_path).generator.metadata.category_pull_temperature() == 0.05
    build_generator(tmp_path / GENERATOR_FILE, small_metadata())
    assert ModelRuntime(tmp_path).generator.metadata.category_pull_temperature() == 0.02


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (
            "musicscape.scene_memory_seconds",
            "1e308",
            "musicscape.scene_memory_seconds must be a number from 0 to 3600, got 1e+308",
        ),
        (
            "musicscape.scene_memory_seconds",
            "NaN",
            "musicscape.scene_memory_seconds must be a number from 0 to 3600, got NaN",
        ),
        (
            "musicscape.scene_memory_seconds",
            '"16"',
            'musicscape.scene_memory_seconds must be a number from 0 to 3600, got "16"',
        ),
        (
            "musicscape.feature_dim",
            "32.5",
            "musicscape.feature_dim must be a whole number from 1 to 65536, got 32.5",
        ),
        (
            "musicscape.noise_dim",
            "0",
            "musicscape.noise_dim must be a whole number from 1 to 65536, got 0",
        ),
        (
            "musicscape.image_size",
            "1e9",
            "musicscape.image_size must be a whole number from 1 to 4096, got 1000000000.0",
        ),
        (
            "musicscape.frontend",
            FRONTEND.replace('"window_seconds": 16.0', '"window_seconds": 1e308'),
            "musicscape.frontend.window_seconds must be a number from 0.01 to 600, got 1e+308",
        ),
        (
            "musicscape.frontend",
            FRONTEND.replace('"sample_rate": 22050', '"sample_rate": true'),
            "musicscape.frontend.sample_rate must be a whole number from 1000 to 384000, got true",
        ),
        (
            "musicscape.frontend",
            FRONTEND.replace('"hop": 512', '"hop": 1').replace(
                '"window_seconds": 16.0', '"window_seconds": 600'
            ),
            "musicscape.frontend: a window of 2 x 1024 x 13230000 values is more than "
            "musicscape handles (67108864)",
        ),
        (
            "musicscape.frontend",
            FRONTEND.replace('"hann"', '"no-such-window"'),
            'musicscape.frontend.window must name a window function such as "hann", '
            'got "no-such-window"',
        ),
        (
            "musicscape.frontend",
            "[1, 2]",
            "musicscape.frontend must be a JSON object",
        ),
        (
            "musicscape.categories",
            '["sky", "sky", "water"]',
            "musicscape.categories must be 2 to 256 different non-empty names, got "
            '["sky", "sky", "water"]',
        ),
        (
            "musicscape.training_data",
            "[]",
            "musicscape.training_data must be a JSON object",
        ),
        (
            "musicscape.training_data",
            '{"noise_truncation": 0}',
            "musicscape.training_data.noise_truncation must be a number from 0.001 to 1, got 0",
        ),
        (
            "musicscape.training_data",
            '{"noise_truncation": "0.4"}',
            'musicscape.training_data.noise_truncation must be a number from 0.001 to 1, got "0.4"',
        ),
        (
            "musicscape.training_data",
            '{"category_pull_temperature": 0}',
            "musicscape.training_data.category_pull_temperature must be a number from 1e-06 to "
            "100, got 0",
        ),
        (
            "musicscape.training_data",
            '{"category_pull_temperature": null}',
            "musicscape.training_data.category_pull_temperature must be a number from 1e-06 to "
            "100, got null",
        ),
    ],
)
def test_every_metadata_value_is_range_checked_naming_file_and_key(tmp_path, key, value, message):
    directory = _directory(tmp_path)
    _set_encoder_prop(directory, key, value)
    with pytest.raises(ModelFileError) as caught:
        ModelRuntime(directory)
    assert str(caught.value) == f"music_encoder.onnx: {message}"


def test_non_finite_category_prototypes_are_refused(tmp_path):
    import dataclasses

    rows = tuple(tuple(0.5 for _ in range(32)) for _ in CATEGORIES)
    metadata = dataclasses.replace(small_metadata(), category_prototypes=rows)
    build_encoder(tmp_path / ENCODER_FILE, metadata)
    build_generator(tmp_path / GENERATOR_FILE, metadata)
    bad = json.dumps([[0.5] * 32] * 3 + [[0.5] * 31 + [float("inf")]])
    _set_encoder_prop(tmp_path, "musicscape.category_prototypes", bad)
    with pytest.raises(ModelFileError) as caught:
        ModelRuntime(tmp_path)
    assert str(caught.value) == (
        "music_encoder.onnx: musicscape.category_prototypes must be rows of finite numbers"
    )


def test_category_prototypes_round_trip_and_a_wrong_shape_is_refused(tmp_path):
    import dataclasses

    rows = tuple(tuple(float(i + j) for j in range(32)) for i in range(len(CATEGORIES)))
    metadata = dataclasses.replace(small_metadata(), category_prototypes=rows)
    build_encoder(tmp_path / ENCODER_FILE, metadata)
    build_generator(tmp_path / GENERATOR_FILE, metadata)
    assert ModelRuntime(tmp_path).metadata.category_prototypes == rows
    _set_encoder_prop(tmp_path, "musicscape.category_prototypes", "[[1.0, 2.0]]")
    with pytest.raises(ModelFileError) as caught:
        ModelRuntime(tmp_path)
    assert str(caught.value) == (
        "music_encoder.onnx: category_prototypes must be 4 rows of 32 values (one per category)"
    )


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (
            {"generator": {"nan_pixels": 1}},
            "generator.onnx: its image output holds NaN or infinity (1 of 12288 values); "
            "the weights are damaged, export it again",
        ),
        (
            {"generator": {"weight_scale": 0.0}},
            "generator.onnx: its image output is 0 everywhere; the weights are damaged, "
            "export it again",
        ),
        (
            {"encoder": {"weight_scale": 0.0}},
            "music_encoder.onnx: its feature output is 0 everywhere; the weights are "
            "damaged, export it again",
        ),
        (
            {"encoder": {"weight_scale": float("inf")}},
            "music_encoder.onnx: its feature output holds NaN or infinity (32 of 32 values); "
            "the weights are damaged, export it again",
        ),
    ],
)
def test_outputs_are_tried_before_a_runtime_is_handed_out(tmp_path, damage, message):
    metadata = small_metadata()
    build_encoder(tmp_path / ENCODER_FILE, metadata, **damage.get("encoder", {}))
    build_generator(tmp_path / GENERATOR_FILE, metadata, **damage.get("generator", {}))
    with pytest.raises(ModelFileError) as caught:
        ModelRuntime(tmp_path)
    assert str(caught.value) == message


def _graph_image(directory, noise, feature, attributes):
    """What the attribute generator's graph computes, in numpy."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(directory / GENERATOR_FILE)).graph
    weights = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    joint = np.concatenate([noise, feature])
    pixels = np.tanh(joint @ weights["weights"] + attributes @ weights["attribute_weights"])
    return pixels.reshape(weights["image_shape"][1:])


def test_a_generator_conditioned_on_attributes_is_asked_the_scored_category_light_then_the_feel(
    tmp_path,
):
    metadata = attribute_metadata()
    build_encoder(tmp_path / ENCODER_FILE, metadata)
    build_attribute_generator(tmp_path / GENERATOR_FILE, metadata)
    runtime = ModelRuntime(tmp_path)
    rng = np.random.default_rng(7)
    noise = rng.standard_normal(metadata.noise_dim).astype(np.float32)
    prototypes = np.asarray(metadata.category_prototypes)
    # A feature that scores as "mountain" (row 2) by a wide margin: softmax at 0.02 is one-hot.
    feature = (prototypes[2] / np.linalg.norm(prototypes[2]) ** 2).astype(np.float32)
    mountain_z = (np.array([50.0, 18.0, 5.0, 20.0]) - [50.0, 20.0, 0.0, 15.0]) / [10, 10, 10, 5]
    assert mountain_z == pytest.approx([0.0, -0.2, 0.5, 1.0])
    np.testing.assert_allclose(
        runtime.paint(noise, feature, None, 0.0),
        _graph_image(tmp_path, noise, feature, mountain_z),
        atol=1e-5,
    )
    target = ColourTarget(lightness=70.0, chroma=40.0, yellowness=-10.0, redness=3.0)
    # Asked all the way to the feel: lightness +2, chroma +2, yellowness -1; contrast stays.
    np.testing.assert_allclose(
        runtime.paint(noise, feature, target, 1.0),
        _graph_image(tmp_path, noise, feature, np.array([2.0, 2.0, -1.0, 1.0])),
        atol=1e-5,
    )
    halfway = np.array([1.0, 0.9, -0.25, 1.0])
    np.testing.assert_allclose(
        runtime.paint(noise, feature, target, 0.5),
        _graph_image(tmp_path, noise, feature, halfway),
        atol=1e-5,
    )


def test_a_generator_without_attributes_has_its_picture_graded(model_dir):
    runtime = ModelRuntime(model_dir)
    meta = runtime.metadata
    rng = np.random.default_rng(8)
    noise = rng.standard_normal(meta.noise_dim).astype(np.float32)
    feature = rng.standard_normal(meta.feature_dim).astype(np.float32)
    target = ColourTarget(lightness=70.0, chroma=40.0, yellowness=-10.0, redness=3.0)
    plain = runtime.generate(noise, feature)
    np.testing.assert_array_equal(runtime.paint(noise, feature, target, 0.0), plain)
    np.testing.assert_allclose(
        runtime.paint(noise, feature, target, 0.7), grade(plain, target, 0.7), atol=1e-6
    )


def test_an_attribute_generator_without_its_stats_is_refused(tmp_path):
    metadata = attribute_metadata()
    build_encoder(tmp_path / ENCODER_FILE, metadata)
    build_attribute_generator(tmp_path / GENERATOR_FILE, replace(metadata, picture_attributes={}))
    with pytest.raises(ModelFileError, match="takes attributes but its metadata has no"):
        ModelRuntime(tmp_path)
