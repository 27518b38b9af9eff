"""Memory that must not grow with running time, and the spectrogram item that replaced
pyqtgraph's ImageItem for it (drawn with the same colours and orientation)."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import psutil
import pyqtgraph as pg
import pytest
from PyQt6.QtGui import QColor

from visualizer.app.frame_stats import FrameStats, RecentValues
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


SPECTROGRAM_GROWTH_SCRIPT = """
import numpy as np, psutil
from PyQt6.QtWidgets import QApplication
from visualizer.app.spectrogram_image import SpectrogramImage
from visualizer.app.spectrogram_view import SpectrogramView
from visualizer.frontend import FrontEndContract

app = QApplication([])
view = SpectrogramView("inferno")
view.resize(900, 240)
view.set_layout(SpectrogramImage(FrontEndContract(), 344, True, 256))
view.show()
rng = np.random.default_rng(0)
frames = [rng.integers(0, 256, (256, 344), dtype=np.uint8) for _ in range(8)]

def update(count):
    for index in range(count):
        view.show_columns(frames[index % len(frames)])
        app.processEvents()  # the view paints the item

update(500)
before = psutil.Process().memory_info().rss
update(5000)
print(psutil.Process().memory_info().rss - before)
"""


@pytest.mark.slow  # a Qt process of its own, ~5 s
def test_spectrogram_updates_keep_no_memory():
    # In a process of its own: a pytest process that ran other tests (torch, large arrays)
    # moves its RSS by hundreds of kB for reasons of its own.
    result = subprocess.run(
        [sys.executable, "-c", SPECTROGRAM_GROWTH_SCRIPT],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        check=True,
    )
    grown = int(result.stdout.split()[-1])
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


def test_recent_values_hold_the_newest_in_order():
    values = RecentValues(3)
    assert len(values) == 0 and not values and list(values) == []
    for value in (1.0, 2.0, 3.0, 4.0, 5.0):
        values.append(value)
    assert len(values) == 3 and list(values) == [3.0, 4.0, 5.0]
    assert values[0] == 3.0 and values[-1] == 5.0 and values[-3] == 3.0
    assert np.array_equal(np.asarray(values), [3.0, 4.0, 5.0])
    with pytest.raises(IndexError):
        values[3]
    values.clear()
    assert len(values) == 0


def test_frame_stats_take_no_more_memory_as_they_fill():
    stats = FrameStats()
    process = psutil.Process()
    before = process.memory_info().rss
    for frame in range(40_000):  # twice the history, at 60 fps, a beat every 10th frame
        now = frame / 60.0
        stats.displayed(frame, now - 0.02 if frame % 10 == 0 else None, now)
    grown = process.memory_info().rss - before
    # deques of floats took ~32 bytes a value: ~1.4 MB here
    assert grown < 256 * 1024, f"{grown} bytes"
    assert len(stats.display_times) == 20_000 and stats.display_times[-1] == 39_999 / 60.0
    assert stats.fps(39_999 / 60.0) == 61.0  # frames at and within one second before now
    assert stats.summary()["latency_ms_p50"] == pytest.approx(20.0)
