"""Memory that must not grow with running time, and the spectrogram item that replaced
pyqtgraph's ImageItem for it (drawn with the same colours and orientation)."""

from __future__ import annotations

import numpy as np
import psutil
import pyqtgraph as pg
from PyQt6.QtGui import QColor
from PyQt6.QtWidgets import QApplication

from visualizer.app.spectrogram_image import SpectrogramImage
from visualizer.app.spectrogram_view import SpectrogramView
from visualizer.frontend import FrontEndContract


def _view(qtbot) -> SpectrogramView:
    view = SpectrogramView("inferno")
    qtbot.addWidget(view)
    view.resize(900, 240)
    view.set_layout(SpectrogramImage(FrontEndContract(), 344, True, 256))
    view.show()
    qtbot.waitExposed(view)
    return view


def test_spectrogram_updates_keep_no_memory(qtbot):
    view = _view(qtbot)
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (256, 344), dtype=np.uint8) for _ in range(8)]

    def update(count: int) -> None:
        for index in range(count):
            view.show_columns(frames[index % len(frames)])
            QApplication.processEvents()  # the view paints the item

    update(500)
    process = psutil.Process()
    before = process.memory_info().rss
    update(5000)
    grown = process.memory_info().rss - before
    # pyqtgraph's ImageItem kept ~112 bytes per update here (560 kB for 5000)
    assert grown < 64 * 1024, f"{grown} bytes for 5000 updates"


def test_spectrogram_is_drawn_in_the_colour_map_low_frequencies_at_the_bottom(qtbot):
    view = _view(qtbot)
    image = np.full((256, 344), 10, dtype=np.uint8)
    image[:128] = 250  # the lower half of the rows: the low frequencies
    view.show_columns(image)
    assert view.shown() is not None and np.array_equal(view.shown(), image)
    picture = view.grab().toImage()
    lut = pg.colormap.get("inferno").getLookupTable(0.0, 1.0, 256, alpha=False)
    x = int(picture.width() * 0.75)
    top = picture.pixelColor(x, int(picture.height() * 0.2))
    bottom = picture.pixelColor(x, int(picture.height() * 0.8))
    assert top == QColor(*(int(v) for v in lut[10]))
    assert bottom == QColor(*(int(v) for v in lut[250]))
