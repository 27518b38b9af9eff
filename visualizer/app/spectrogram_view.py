"""The scrolling spectrogram: a pyqtgraph ImageItem on the fast path.

Row-major uint8 data (built by the worker, see spectrogram_image.py), fixed levels
(0..255, autoLevels off) and a uint8 lookup table from a named colour map.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from .spectrogram_image import SpectrogramImage

COLORMAPS = ("inferno", "viridis", "magma", "plasma", "turbo")
TICK_HZ = (50, 100, 200, 500, 1000, 2000, 5000, 10000)


class SpectrogramView(pg.PlotWidget):
    def __init__(self, colormap: str = "inferno", parent=None):
        super().__init__(parent=parent, background="k")
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.addItem(self.image_item)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.setMenuEnabled(False)
        self.getPlotItem().hideAxis("bottom")
        self.getPlotItem().getAxis("left").setWidth(44)
        self.setMinimumHeight(120)
        self.layout_: SpectrogramImage | None = None
        self.set_colormap(colormap)

    def set_colormap(self, name: str) -> None:
        colormap = pg.colormap.get(name if name in COLORMAPS else COLORMAPS[0])
        lut = colormap.getLookupTable(0.0, 1.0, 256, alpha=False)
        self.image_item.setLookupTable(np.ascontiguousarray(lut, dtype=np.uint8))

    def set_layout(self, layout: SpectrogramImage) -> None:
        """Label the frequency axis for `layout`'s rows (log or linear)."""
        self.layout_ = layout
        rows = len(layout.row_hz)
        ticks = [
            (layout.row_of_hz(hz) + 0.5, f"{hz / 1000:g}k" if hz >= 1000 else f"{hz}")
            for hz in TICK_HZ
            if layout.row_hz[0] <= hz <= layout.row_hz[-1]
        ]
        self.getPlotItem().getAxis("left").setTicks([ticks])
        self.setRange(xRange=(0, layout.columns), yRange=(0, rows), padding=0)

    def show_columns(self, image: np.ndarray) -> None:
        """image: uint8 [rows, columns], row 0 the lowest frequency."""
        self.image_item.setImage(image, autoLevels=False, levels=(0, 255))

    def shown(self) -> np.ndarray | None:
        return self.image_item.image
