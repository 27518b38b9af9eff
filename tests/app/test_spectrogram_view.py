"""The spectrogram's image item paints each level in its colour map's colour exactly, from
32-bit pixels made once per update, and follows a change of colour map."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtGui import QImage, QPainter

from visualizer.app.spectrogram_view import SpectrogramView

from .qimage_pixels import rgb_pixels


def painted(view: SpectrogramView) -> np.ndarray:
    """The image item painted at one pixel per level: RGB uint8 [rows, columns]."""
    rows, columns = view.shown().shape
    screen = QImage(columns, rows, QImage.Format.Format_RGB32)
    painter = QPainter(screen)
    view.image_item.paint(painter)
    painter.end()
    return rgb_pixels(screen)


def colour_map(name: str) -> np.ndarray:
    return np.asarray(pg.colormap.get(name).getLookupTable(0.0, 1.0, 256, alpha=False), np.uint8)


def test_each_level_is_painted_in_its_colour_and_a_new_colour_map_recolours(qtbot):
    view = SpectrogramView("inferno")
    qtbot.addWidget(view)
    levels = np.arange(256, dtype=np.uint8).reshape(16, 16)
    view.show_columns(levels)
    assert np.array_equal(painted(view), colour_map("inferno")[levels])
    view.set_colormap("viridis")
    assert np.array_equal(painted(view), colour_map("viridis")[levels])
    newer = np.ascontiguousarray(levels[::-1])
    view.show_columns(newer)
    assert np.array_equal(painted(view), colour_map("viridis")[newer])
