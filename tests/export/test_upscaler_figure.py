"""The model card's upscaler figure, drawn from the bundled models (a generator that takes
picture attributes is asked for each category's typical light), and the 64-px-beside-128-px
form that takes each side from its own folder."""

import json
import shutil

import numpy as np
import onnx
import pytest

from export.upscaler_figure import CELL, LABEL_HEIGHT, side_by_side
from visualizer.bundled import assets_dir
from visualizer.model_files import GENERATOR_FILE, ModelFileError


def test_figure_has_one_row_per_category_with_bicubic_beside_learned():
    figure = side_by_side(assets_dir() / "models")
    assert figure.shape == (LABEL_HEIGHT + 4 * CELL, 2 * CELL, 3) and figure.dtype == np.uint8
    rows = figure[LABEL_HEIGHT:].reshape(4, CELL, 2 * CELL, 3).astype(int)
    bicubic, learned = rows[:, :, :CELL], rows[:, :, CELL:]
    # the same scene both sides (means within 3 levels), enlarged differently
    assert np.abs(bicubic.mean(axis=(1, 2)) - learned.mean(axis=(1, 2))).max() < 3.0
    assert not any(
        np.array_equal(left, right) for left, right in zip(bicubic, learned, strict=True)
    )
    # four different scenes
    means = rows.mean(axis=(1, 2))
    assert min(np.abs(means[i] - means[j]).sum() for i in range(4) for j in range(i)) > 5.0


def test_the_right_side_can_be_another_folders_generator_and_upscaler(tmp_path):
    bundled = assets_dir() / "models"
    left = tmp_path / "left"
    left.mkdir()
    shutil.copy(bundled / GENERATOR_FILE, left / GENERATOR_FILE)  # no upscaler.onnx here
    assert np.array_equal(side_by_side(left, right_dir=bundled), side_by_side(bundled))
    with pytest.raises(ModelFileError, match=f"{left}: no upscaler.onnx"):
        side_by_side(bundled, right_dir=left)
    generator = onnx.load(bundled / GENERATOR_FILE)
    for prop in generator.metadata_props:
        if prop.key == "musicscape.categories":
            prop.value = json.dumps(list(reversed(json.loads(prop.value))))
    onnx.save(generator, left / GENERATOR_FILE)
    with pytest.raises(ModelFileError, match="different categories"):
        side_by_side(left, right_dir=bundled)
