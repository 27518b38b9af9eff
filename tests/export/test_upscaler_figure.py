"""The model card's upscaler figure, drawn from the bundled models (a generator that takes
picture attributes is asked for each category's typical light)."""

import numpy as np

from export.upscaler_figure import CELL, LABEL_HEIGHT, side_by_side
from visualizer.bundled import assets_dir


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
