"""Small real ONNX models for the app's tests and benchmarks, built with onnx.helper (no torch).

encoder:   mean over frames of the power channel -> MatMul -> "feature" [B, F];
           feature -> MatMul -> "category_scores" [B, C]
generator: concat(noise, feature) -> MatMul -> Tanh -> Reshape -> "image" [B, 3, S, S]
           (or, with `convolutional=True`, a DCGAN-shaped stack of ConvTranspose layers)

Damaged variants for the output checks: `weight_scale` 0 (constant output), `nan_pixels`
(that many pixels' weights NaN), `nan_above` (every pixel NaN while feature[0] exceeds it:
0 * sqrt(nan_above - feature[0]) is added), `fail_above` (ONNX Runtime raises while
feature[0] exceeds it: the image is reshaped to 4 channels).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from tests.onnx_graphs import save_graph
from visualizer.frontend import FrontEndContract
from visualizer.model_files import ENCODER_FILE, GENERATOR_FILE, ModelMetadata

CATEGORIES = ("sky", "water", "mountain", "desert")


# The level of the music the test models "were trained on" (frontend/level.py).
MUSIC_LEVEL_DB = -17.0


def small_metadata(
    feature_dim: int = 32, noise_dim: int = 16, image_size: int = 64
) -> ModelMetadata:
    return ModelMetadata(
        frontend=FrontEndContract(),
        categories=CATEGORIES,
        feature_dim=feature_dim,
        noise_dim=noise_dim,
        image_size=image_size,
        model_version="test-0",
        music_level_db=MUSIC_LEVEL_DB,
    )


def _constant(name: str, values: np.ndarray):
    return numpy_helper.from_array(values, name=name)


def build_encoder(
    path: Path,
    metadata: ModelMetadata,
    input_shape: tuple[int, int, int] | None = None,
    with_metadata: bool = True,
    seed: int = 0,
    weight_scale: float = 1.0,
) -> Path:
    rng = np.random.default_rng(seed)
    channels, n_bins, n_frames = input_shape or metadata.frontend.input_shape
    feature_dim, n_categories = metadata.feature_dim, len(metadata.categories)
    weights = rng.standard_normal((n_bins, feature_dim)) * weight_scale / np.sqrt(n_bins)
    weights = weights.astype(np.float32)
    centroids = rng.standard_normal((feature_dim, n_categories)).astype(np.float32)
    nodes = [
        helper.make_node("Slice", ["window", "starts", "ends", "axes"], ["power"]),
        helper.make_node("ReduceMean", ["power"], ["mean"], axes=[3], keepdims=0),
        helper.make_node("Reshape", ["mean", "flat_shape"], ["spectrum"]),
        helper.make_node("MatMul", ["spectrum", "weights"], ["feature"]),
        helper.make_node("MatMul", ["feature", "centroids"], ["category_scores"]),
    ]
    graph = helper.make_graph(
        nodes,
        "test_music_encoder",
        [
            helper.make_tensor_value_info(
                "window", TensorProto.FLOAT, ["batch", channels, n_bins, n_frames]
            )
        ],
        [
            helper.make_tensor_value_info("feature", TensorProto.FLOAT, ["batch", feature_dim]),
            helper.make_tensor_value_info(
                "category_scores", TensorProto.FLOAT, ["batch", n_categories]
            ),
        ],
        initializer=[
            _constant("starts", np.array([0], np.int64)),
            _constant("ends", np.array([1], np.int64)),
            _constant("axes", np.array([1], np.int64)),
            _constant("flat_shape", np.array([-1, n_bins], np.int64)),
            _constant("weights", weights),
            _constant("centroids", centroids),
        ],
    )
    return save_graph(graph, path, metadata if with_metadata else None)


def build_generator(
    path: Path,
    metadata: ModelMetadata,
    convolutional: bool = False,
    with_metadata: bool = True,
    seed: int = 1,
    weight_scale: float = 1.0,
    nan_pixels: int = 0,
    nan_above: float | None = None,
    fail_above: float | None = None,
) -> Path:
    rng = np.random.default_rng(seed)
    size, inputs = metadata.image_size, metadata.noise_dim + metadata.feature_dim
    initializers = []
    nodes = [helper.make_node("Concat", ["noise", "feature"], ["joint"], axis=1)]
    if not convolutional:
        weights = rng.standard_normal((inputs, 3 * size * size)).astype(np.float32)
        weights *= weight_scale / np.sqrt(inputs)
        weights[:, :nan_pixels] = np.nan
        initializers += [
            _constant("weights", weights),
            _constant("image_shape", np.array([-1, 3, size, size], np.int64)),
            _constant("first", np.array([0], np.int64)),
        ]
        nodes.append(helper.make_node("Gather", ["feature", "first"], ["feature0"], axis=1))
        nodes += [
            helper.make_node("MatMul", ["joint", "weights"], ["pixels"]),
            helper.make_node("Tanh", ["pixels"], ["tanh_pixels"]),
        ]
        if nan_above is None:
            nodes.append(helper.make_node("Identity", ["tanh_pixels"], ["flat_image"]))
        else:
            initializers += [
                _constant("limit", np.array(nan_above, np.float32)),
                _constant("zero", np.array(0.0, np.float32)),
            ]
            nodes += [
                helper.make_node("Sub", ["limit", "feature0"], ["headroom"]),
                helper.make_node("Sqrt", ["headroom"], ["root"]),
                helper.make_node("Mul", ["root", "zero"], ["poison"]),
                helper.make_node("Add", ["tanh_pixels", "poison"], ["flat_image"]),
            ]
        shape = "image_shape"
        if fail_above is not None:
            initializers += [
                _constant("fail_limit", np.array(fail_above, np.float32)),
                _constant("channel_axis", np.array([0, 1, 0, 0], np.int64)),
            ]
            nodes += [
                helper.make_node("Greater", ["feature0", "fail_limit"], ["over"]),
                helper.make_node("Cast", ["over"], ["over_float"], to=TensorProto.FLOAT),
                helper.make_node("ReduceMax", ["over_float"], ["any_over"], keepdims=0),
                helper.make_node("Cast", ["any_over"], ["extra"], to=TensorProto.INT64),
                helper.make_node("Mul", ["channel_axis", "extra"], ["extra_channel"]),
                helper.make_node("Add", ["image_shape", "extra_channel"], ["trap_shape"]),
            ]
            shape = "trap_shape"
        nodes.append(helper.make_node("Reshape", ["flat_image", shape], ["image"]))
    else:
        widths = [512, 256, 128, 64, 3]  # 4 -> 8 -> 16 -> 32 -> 64
        seed_side = size // 16
        project = rng.standard_normal((inputs, widths[0] * seed_side**2)).astype(np.float32)
        initializers += [
            _constant("project", (project / np.sqrt(inputs)).astype(np.float32)),
            _constant("seed_shape", np.array([-1, widths[0], seed_side, seed_side], np.int64)),
        ]
        nodes += [
            helper.make_node("MatMul", ["joint", "project"], ["seed_flat"]),
            helper.make_node("Reshape", ["seed_flat", "seed_shape"], ["layer0"]),
        ]
        for index in range(4):
            kernel = rng.standard_normal((widths[index], widths[index + 1], 4, 4))
            kernel = (kernel / np.sqrt(widths[index] * 4)).astype(np.float32)
            initializers.append(_constant(f"kernel{index}", kernel))
            out = f"conv{index}"
            nodes.append(
                helper.make_node(
                    "ConvTranspose",
                    [f"layer{index}", f"kernel{index}"],
                    [out],
                    strides=[2, 2],
                    pads=[1, 1, 1, 1],
                    kernel_shape=[4, 4],
                )
            )
            activation = "Tanh" if index == 3 else "Relu"
            result = "image" if index == 3 else f"layer{index + 1}"
            nodes.append(helper.make_node(activation, [out], [result]))
    graph = helper.make_graph(
        nodes,
        "test_generator",
        [
            helper.make_tensor_value_info(
                "noise", TensorProto.FLOAT, ["batch", metadata.noise_dim]
            ),
            helper.make_tensor_value_info(
                "feature", TensorProto.FLOAT, ["batch", metadata.feature_dim]
            ),
        ],
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 3, size, size])],
        initializer=initializers,
    )
    return save_graph(graph, path, metadata if with_metadata else None)


def build_model_dir(
    directory: Path, metadata: ModelMetadata | None = None, convolutional: bool = False
) -> Path:
    """A complete, valid model directory (encoder + generator)."""
    metadata = metadata or small_metadata()
    directory.mkdir(parents=True, exist_ok=True)
    build_encoder(directory / ENCODER_FILE, metadata)
    build_generator(directory / GENERATOR_FILE, metadata, convolutional=convolutional)
    return directory


# Picture-attribute stats of the attribute generator's tests (raw units; z = (raw - mean) / spread).
ATTRIBUTE_STATS = {
    "names": ["lightness", "chroma", "yellowness", "contrast"],
    "mean": [50.0, 20.0, 0.0, 15.0],
    "spread": [10.0, 10.0, 10.0, 5.0],
    "category_mean": [
        [60.0, 15.0, -10.0, 15.0],
        [45.0, 20.0, -5.0, 12.0],
        [50.0, 18.0, 5.0, 20.0],
        [55.0, 30.0, 20.0, 10.0],
    ],
}


def attribute_metadata(feature_dim: int = 32, seed: int = 4) -> ModelMetadata:
    """small_metadata with category prototypes and the picture attributes above."""
    prototypes = np.random.default_rng(seed).standard_normal((len(CATEGORIES), feature_dim))
    return replace(
        small_metadata(feature_dim=feature_dim),
        category_prototypes=tuple(tuple(float(x) for x in row) for row in prototypes),
        picture_attributes=ATTRIBUTE_STATS,
    )


def build_attribute_generator(path: Path, metadata: ModelMetadata, seed: int = 5) -> Path:
    """noise, feature, attributes [B, 4] -> Tanh(concat(noise, feature) @ weights +
    attributes @ attribute_weights) -> "image" [B, 3, S, S]: a generator conditioned on
    picture attributes whose output shows exactly what it was asked."""
    rng = np.random.default_rng(seed)
    size, inputs = metadata.image_size, metadata.noise_dim + metadata.feature_dim
    weights = (rng.standard_normal((inputs, 3 * size * size)) / np.sqrt(inputs)).astype(np.float32)
    attribute_weights = (0.3 * rng.standard_normal((4, 3 * size * size))).astype(np.float32)
    nodes = [
        helper.make_node("Concat", ["noise", "feature"], ["joint"], axis=1),
        helper.make_node("MatMul", ["joint", "weights"], ["from_music"]),
        helper.make_node("MatMul", ["attributes", "attribute_weights"], ["from_attributes"]),
        helper.make_node("Add", ["from_music", "from_attributes"], ["pixels"]),
        helper.make_node("Tanh", ["pixels"], ["flat_image"]),
        helper.make_node("Reshape", ["flat_image", "image_shape"], ["image"]),
    ]
    graph = helper.make_graph(
        nodes,
        "test_attribute_generator",
        [
            helper.make_tensor_value_info(
                "noise", TensorProto.FLOAT, ["batch", metadata.noise_dim]
            ),
            helper.make_tensor_value_info(
                "feature", TensorProto.FLOAT, ["batch", metadata.feature_dim]
            ),
            helper.make_tensor_value_info("attributes", TensorProto.FLOAT, ["batch", 4]),
        ],
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 3, size, size])],
        initializer=[
            _constant("weights", weights),
            _constant("attribute_weights", attribute_weights),
            _constant("image_shape", np.array([-1, 3, size, size], np.int64)),
        ],
    )
    return save_graph(graph, path, metadata)
