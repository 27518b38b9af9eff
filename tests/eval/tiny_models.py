"""A tiny exported model directory whose eval figures are known by construction (no torch).

Front end: 8 kHz, n_fft 256, hop 100, 2-s windows (160 frames), so windows hop 80 frames.
Each category has a tone; bin spacing is 31.25 Hz.

encoder:   category_scores[c] = mean over frames of the power channel, summed over the
           bins within 2 of category c's tone bin; feature = softmax(50 * scores), about
           one-hot of the loudest tone (feature_dim = number of categories).
generator: image = feature @ PALETTE_OF_MUSIC broadcast over S x S pixels (+ 0 * noise), so
           every draw of one feature gives the same image. Water music paints sky's colour.
judge:     features = mean colour per channel [B, 3]; logits = -|features - colour_j|^2
           over its categories (listed in another order than the encoder's).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import soundfile as sf
from onnx import TensorProto, helper, numpy_helper

from tests.onnx_graphs import save_graph
from visualizer.frontend import FrontEndContract
from visualizer.model_files import ENCODER_FILE, GENERATOR_FILE, JUDGE_FILE, ModelMetadata

CONTRACT = FrontEndContract(sample_rate=8000, n_fft=256, hop=100, n_bins=128, window_seconds=2.0)
CATEGORIES = ("desert", "sky", "water")
JUDGE_CATEGORIES = ("water", "sky", "desert")
TONE_BINS = {"desert": 20, "sky": 40, "water": 80}
NOISE_DIM = 4
IMAGE_SIZE = 8
# Colours as uint8 levels (exact in [-1, 1] as level * 2 / 255 - 1).
COLOUR_LEVELS = {"desert": (204, 153, 51), "sky": (51, 102, 204), "water": (0, 51, 102)}
MUSIC_PAINTS = {"desert": "desert", "sky": "sky", "water": "sky"}


def level_to_unit(levels) -> np.ndarray:
    return np.asarray(levels, dtype=np.float32) * np.float32(2.0 / 255.0) - np.float32(1.0)


def tone_frequency(category: str) -> float:
    return TONE_BINS[category] * CONTRACT.sample_rate / CONTRACT.n_fft


def metadata(
    categories: tuple[str, ...] = CATEGORIES,
    feature_dim: int = len(CATEGORIES),
    image_size: int = IMAGE_SIZE,
    training_data: dict | None = None,
    scene_memory_seconds: float = 0.0,
    music_level_db: float | None = None,
) -> ModelMetadata:
    return ModelMetadata(
        frontend=CONTRACT,
        categories=categories,
        feature_dim=feature_dim,
        noise_dim=NOISE_DIM,
        image_size=image_size,
        model_version="eval-test",
        training_data=training_data or {},
        scene_memory_seconds=scene_memory_seconds,
        music_level_db=music_level_db,
    )


def _tensor(name: str, values) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(values), name=name)


def build_encoder(path: Path, model_metadata: ModelMetadata | None) -> None:
    _, n_bins, n_frames = CONTRACT.input_shape
    bands = np.zeros((n_bins, len(CATEGORIES)), dtype=np.float32)
    for index, name in enumerate(CATEGORIES):
        bands[TONE_BINS[name] - 2 : TONE_BINS[name] + 3, index] = 1.0
    nodes = [
        helper.make_node("Slice", ["window", "start", "end", "axis"], ["power"]),
        helper.make_node("ReduceMean", ["power"], ["mean"], axes=[1, 3], keepdims=0),
        helper.make_node("MatMul", ["mean", "bands"], ["category_scores"]),
        helper.make_node("Mul", ["category_scores", "sharpness"], ["sharp"]),
        helper.make_node("Softmax", ["sharp"], ["feature"], axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "encoder",
        [
            helper.make_tensor_value_info(
                "window", TensorProto.FLOAT, ["batch", 2, n_bins, n_frames]
            )
        ],
        [
            helper.make_tensor_value_info("feature", TensorProto.FLOAT, ["batch", len(CATEGORIES)]),
            helper.make_tensor_value_info(
                "category_scores", TensorProto.FLOAT, ["batch", len(CATEGORIES)]
            ),
        ],
        [
            _tensor("start", np.array([0], np.int64)),
            _tensor("end", np.array([1], np.int64)),
            _tensor("axis", np.array([1], np.int64)),
            _tensor("bands", bands),
            _tensor("sharpness", np.array(50.0, np.float32)),
        ],
    )
    save_graph(graph, path, model_metadata)


def build_generator(path: Path, model_metadata: ModelMetadata) -> None:
    palette = np.stack([level_to_unit(COLOUR_LEVELS[MUSIC_PAINTS[name]]) for name in CATEGORIES])
    nodes = [
        helper.make_node("MatMul", ["feature", "palette"], ["colour"]),  # [B, 3]
        helper.make_node("MatMul", ["noise", "noise_mix"], ["noise_colour"]),  # [B, 3] zeros
        helper.make_node("Add", ["colour", "noise_colour"], ["mixed"]),
        helper.make_node("Unsqueeze", ["mixed", "pixel_axes"], ["column"]),  # [B, 3, 1, 1]
        helper.make_node("Mul", ["column", "ones"], ["image"]),  # [B, 3, S, S]
    ]
    size = model_metadata.image_size
    graph = helper.make_graph(
        nodes,
        "generator",
        [
            helper.make_tensor_value_info("noise", TensorProto.FLOAT, ["batch", NOISE_DIM]),
            helper.make_tensor_value_info(
                "feature", TensorProto.FLOAT, ["batch", model_metadata.feature_dim]
            ),
        ],
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 3, size, size])],
        [
            _tensor("palette", palette.astype(np.float32)),
            _tensor("noise_mix", np.zeros((NOISE_DIM, 3), np.float32)),
            _tensor("pixel_axes", np.array([2, 3], np.int64)),
            _tensor("ones", np.ones((1, 1, size, size), np.float32)),
        ],
    )
    save_graph(graph, path, model_metadata)


def build_judge(path: Path, model_metadata: ModelMetadata) -> None:
    colours = np.stack([level_to_unit(COLOUR_LEVELS[name]) for name in JUDGE_CATEGORIES])
    # -|x - c|^2 = 2 x.c - |c|^2 - |x|^2; the last term is the same for every category.
    nodes = [
        helper.make_node("ReduceMean", ["image"], ["features"], axes=[2, 3], keepdims=0),
        helper.make_node("MatMul", ["features", "twice_colours"], ["dot"]),
        helper.make_node("Sub", ["dot", "colour_norms"], ["logits"]),
    ]
    size = model_metadata.image_size
    graph = helper.make_graph(
        nodes,
        "judge",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 3, size, size])],
        [
            helper.make_tensor_value_info(
                "logits", TensorProto.FLOAT, ["batch", len(JUDGE_CATEGORIES)]
            ),
            helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", 3]),
        ],
        [
            _tensor("twice_colours", (2.0 * colours.T).astype(np.float32)),
            _tensor("colour_norms", np.sum(colours**2, axis=1).astype(np.float32)),
        ],
    )
    save_graph(graph, path, model_metadata)


HELD_OUT_PHOTOS = [f"{name}/{name}_{shade}.png" for name in CATEGORIES for shade in (0, 1)]
PHOTO_SHADE = 10  # photo k of a category has red level = colour + (2k - 1) * PHOTO_SHADE


def photo_levels(category: str, shade: int) -> tuple[int, int, int]:
    red, green, blue = COLOUR_LEVELS[category]
    return (max(0, red + (2 * shade - 1) * PHOTO_SHADE), green, blue)


def build_model_dir(
    directory: Path, scene_memory_seconds: float = 0.0, music_level_db: float | None = None
) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    build_encoder(
        directory / ENCODER_FILE,
        metadata(
            training_data={
                "train_tracks": ["music/desert/d1.wav", "music/water/w1.wav"],
                "validation_tracks": ["music-extra/sky/s1.wav"],
            },
            scene_memory_seconds=scene_memory_seconds,
            music_level_db=music_level_db,
        ),
    )
    build_generator(directory / GENERATOR_FILE, metadata())
    build_judge(
        directory / JUDGE_FILE,
        metadata(categories=JUDGE_CATEGORIES, training_data={"validation_photos": HELD_OUT_PHOTOS}),
    )
    return directory


def tone(category: str, seconds: float) -> np.ndarray:
    time = np.arange(round(seconds * CONTRACT.sample_rate)) / CONTRACT.sample_rate
    return (0.5 * np.sin(2 * np.pi * tone_frequency(category) * time)).astype(np.float32)


def build_music_dir(directory: Path) -> Path:
    """desert/d1 (5 s desert tone: 4 windows), sky/s1 (1 s sky tone: 1 padded window),
    water/w1 (2.5 s water then 3.5 s desert tone: 5 windows retrieved W W D D D),
    water/broken.wav (not audio)."""
    for name in CATEGORIES:
        (directory / name).mkdir(parents=True, exist_ok=True)
    rate = CONTRACT.sample_rate
    sf.write(directory / "desert" / "d1.wav", tone("desert", 5.0), rate)
    sf.write(directory / "sky" / "s1.wav", tone("sky", 1.0), rate)
    sf.write(
        directory / "water" / "w1.wav",
        np.concatenate([tone("water", 2.5), tone("desert", 3.5)]),
        rate,
    )
    (directory / "water" / "broken.wav").write_bytes(b"RIFF not really a wave file")
    return directory


def build_scenes_dir(directory: Path) -> Path:
    """Two listed (held-out) shades per category plus one unlisted photo each."""
    from PIL import Image

    for name in CATEGORIES:
        (directory / name).mkdir(parents=True, exist_ok=True)
        for shade in (0, 1):
            pixels = np.full((12, 12, 3), photo_levels(name, shade), dtype=np.uint8)
            Image.fromarray(pixels).save(directory / name / f"{name}_{shade}.png")
        unlisted = np.full((12, 12, 3), 255, dtype=np.uint8)
        Image.fromarray(unlisted).save(directory / name / f"{name}_extra.png")
    return directory
