"""Eval's attribute-control and checkerboard figures, and the category request every draw of
an attribute generator gets; the checkerboard ratio's known answers."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from tests.eval import tiny_models
from tests.onnx_graphs import save_graph
from visualizer.eval.config import EvalConfig
from visualizer.eval.evaluate import evaluate
from visualizer.eval.model_set import attribute_requests, generate, load_model_set
from visualizer.eval.picture_figures import generated_attributes
from visualizer.eval.report import format_summary
from visualizer.feel import colour_target, requested_attributes
from visualizer.model_files import ENCODER_FILE, GENERATOR_FILE
from visualizer.picture_attributes import (
    ATTRIBUTE_NAMES,
    AttributeStats,
    category_request,
    image_attributes,
)

CATEGORIES = tiny_models.CATEGORIES
STATS = AttributeStats(
    names=ATTRIBUTE_NAMES,
    mean=(50.0, 10.0, 0.0, 10.0),
    spread=(10.0, 5.0, 8.0, 5.0),
    # the same yellowness in every category: b* moves L* a little, and L* b*
    category_mean=((60.0, 20.0, 0.0, 12.0), (45.0, 8.0, 0.0, 9.0), (40.0, 6.0, 0.0, 8.0)),
)


def build_attribute_generator(path, meta) -> None:
    """image = grey + 0.2 * lightness z (all channels) + 0.1 * yellowness z (R, G up, B
    down), the same at every pixel, whatever the noise and feature."""
    mix = np.zeros((4, 3), np.float32)
    mix[0] = 0.2
    mix[2] = (0.1, 0.1, -0.1)
    size = meta.image_size
    nodes = [
        helper.make_node("MatMul", ["attributes", "mix"], ["colour"]),  # [B, 3]
        helper.make_node("MatMul", ["noise", "noise_mix"], ["from_noise"]),
        helper.make_node("MatMul", ["feature", "feature_mix"], ["from_feature"]),
        helper.make_node("Add", ["colour", "from_noise"], ["a"]),
        helper.make_node("Add", ["a", "from_feature"], ["b"]),
        helper.make_node("Clip", ["b", "low", "high"], ["clipped"]),
        helper.make_node("Unsqueeze", ["clipped", "pixel_axes"], ["column"]),
        helper.make_node("Mul", ["column", "ones"], ["image"]),
    ]
    graph = helper.make_graph(
        nodes,
        "attribute_generator",
        [
            helper.make_tensor_value_info("noise", TensorProto.FLOAT, ["batch", meta.noise_dim]),
            helper.make_tensor_value_info(
                "feature", TensorProto.FLOAT, ["batch", meta.feature_dim]
            ),
            helper.make_tensor_value_info("attributes", TensorProto.FLOAT, ["batch", 4]),
        ],
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 3, size, size])],
        [
            numpy_helper.from_array(mix, "mix"),
            numpy_helper.from_array(np.zeros((meta.noise_dim, 3), np.float32), "noise_mix"),
            numpy_helper.from_array(np.zeros((meta.feature_dim, 3), np.float32), "feature_mix"),
            numpy_helper.from_array(np.array(-1.0, np.float32), "low"),
            numpy_helper.from_array(np.array(1.0, np.float32), "high"),
            numpy_helper.from_array(np.array([2, 3], np.int64), "pixel_axes"),
            numpy_helper.from_array(np.ones((1, 1, size, size), np.float32), "ones"),
        ],
    )
    save_graph(graph, path, meta)


def build_attribute_models(root):
    """The tiny model directory with its generator swapped for the attribute generator."""
    import dataclasses

    models = tiny_models.build_model_dir(root / "models")
    prototypes = tuple(tuple(row) for row in np.eye(len(CATEGORIES)).tolist())
    encoder_meta = dataclasses.replace(
        tiny_models.metadata(
            training_data={"train_tracks": [], "validation_tracks": []},
        ),
        category_prototypes=prototypes,
    )
    tiny_models.build_encoder(models / ENCODER_FILE, encoder_meta)
    generator_meta = dataclasses.replace(
        tiny_models.metadata(), category_prototypes=prototypes, picture_attributes=STATS.to_dict()
    )
    build_attribute_generator(models / GENERATOR_FILE, generator_meta)
    return models


@pytest.fixture(scope="module")
def attribute_result(tmp_path_factory):
    root = tmp_path_factory.mktemp("attribute_eval")
    models = build_attribute_models(root)
    music = tiny_models.build_music_dir(root / "music")
    config = EvalConfig(threads=1, control_draws=8, feel_draws=8, centroid_draws=4)
    return evaluate(models, music, None, "all", config)


def test_feel_pictures_of_an_attribute_generator_are_asked_not_graded(tmp_path):
    models = load_model_set(build_attribute_models(tmp_path), threads=1)
    features = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], np.float32)
    targets = [colour_target(0.9, 0.4), colour_target(0.0, -0.4)]
    drawn = generated_attributes(models, features, targets, 1.0, seed=3, batch=8)
    base = category_request(np.eye(3)[[0, 2]], STATS)  # one-hot at the pull temperature
    asked = np.stack(
        [
            requested_attributes(row, target, 1.0, STATS.mean, STATS.spread)
            for row, target in zip(base, targets, strict=True)
        ]
    )
    # This generator ignores noise and feature: its picture shows the asked lightness and
    # yellowness only, so an ungraded picture of the ask is what the app would show.
    noise = np.zeros((2, models.generator.metadata.noise_dim))
    expected = image_attributes(generate(models, noise, features, asked))
    np.testing.assert_allclose(drawn, expected, atol=1e-9)
    # Grading would also have moved chroma toward the target; asking leaves it as drawn.
    assert drawn[0, 0] > drawn[1, 0] + 10  # the energetic, bright feel is asked lighter


def test_attribute_control_measures_what_the_generator_draws_as_asked(attribute_result):
    control = attribute_result["attribute_control"]
    figures = control["attributes"]
    assert list(figures) == list(ATTRIBUTE_NAMES)
    assert control["steps_z"] == [-1.5, -0.75, 0.0, 0.75, 1.5]
    assert control["draws_per_setting"] == 8
    # L* rises with the asked lightness, b* with the asked yellowness (each monotonic).
    assert figures["lightness"]["pearson_r"] > 0.95
    assert figures["yellowness"]["pearson_r"] > 0.95
    drawn = figures["lightness"]["drawn_mean_z_per_step"]
    assert list(drawn.values()) == sorted(drawn.values())
    # Contrast is never drawn (flat pictures): no correlation can be measured.
    assert figures["contrast"]["pearson_r"] is None
    assert "attribute control  asked vs drawn r: lightness" in format_summary(attribute_result)


def test_plain_generators_have_no_attribute_figures_but_a_checkerboard_figure(tmp_path):
    models = tiny_models.build_model_dir(tmp_path / "models")
    music = tiny_models.build_music_dir(tmp_path / "music")
    result = evaluate(models, music, None, "all", EvalConfig(threads=1, feel_draws=4))
    assert result["attribute_control"] is None
    assert "n/a (the generator takes no attributes)" in format_summary(result)
    assert "generated" in result["checkerboard"]
    # these tiny models have no category prototypes to draw from: no streak figures
    assert "streaks" not in result["checkerboard"]
    assert "streaks   " not in format_summary(result)


def test_every_draw_asks_for_the_typical_light_of_the_scored_category():
    prototypes = np.eye(3)
    models = SimpleNamespace(
        encoder=SimpleNamespace(metadata=SimpleNamespace(category_prototypes=prototypes.tolist())),
        generator=SimpleNamespace(
            metadata=SimpleNamespace(training_data={"category_pull_temperature": 0.5})
        ),
        pull_temperature=0.5,
        attribute_stats=STATS,
        categories=CATEGORIES,
    )
    features = np.array([[1.0, 0.0, 0.0], [0.2, 0.1, 0.0]])
    scores = features @ prototypes.T / 0.5
    weights = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(
        attribute_requests(models, features), category_request(weights, STATS), atol=1e-12
    )


def test_a_generator_of_flat_pictures_draws_no_streaks(attribute_result):
    checkerboard = attribute_result["checkerboard"]
    assert checkerboard["streaks"] == {"vertical": 0.0, "horizontal": 0.0}
    assert "streaks            vertical 0.000, horizontal 0.000" in format_summary(attribute_result)
