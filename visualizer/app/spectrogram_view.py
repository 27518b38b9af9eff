"""The scrolling spectrogram: pyqtgraph axes around an indexed-colour image item.

Row-major uint8 data (built by the worker, see spectrogram_image.py) is read as an 8-bit
indexed QImage over the buffer itself, with a colour table from a named colour map, and
turned through that table into 32-bit pixels once per update (0.04 ms for 344 x 256 here),
which Qt scales onto the widget by its fast path: 0.3-0.6 ms for 1500 x 460 against 2.0 ms
from the indexed image, at every paint. The image item is ours, not pyqtgraph's ImageItem:
that one makes each frame's QImage from an integer address, and PyQt6 keeps ~110 bytes for
every QImage built that way, which at the spectrogram's ~43 updates a second grew the app
by ~17 MB an hour. A QImage over the array's buffer keeps nothing.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QRectF
from PyQt6.QtGui import QImage, qRgb

from .spectrogram_image import SpectrogramImage

COLORMAPS = ("inferno", "viridis", "magma", "plasma", "turbo")
TICK_HZ = (50, 100, 200, 500, 1000, 2000, 5000, 10000)


class IndexedImageItem(pg.GraphicsObject):
    """A uint8 [rows, columns] array drawn through a 256-colour table, row 0 at y = 0."""

    def __init__(self):
        super().__init__()
        self.image: np.ndarray | None = None
        self._qimage: QImage | None = None  # the image in colour, 32-bit, as painted
        self._table: list[int] = [qRgb(level, level, level) for level in range(256)]

    def set_color_table(self, table: list[int]) -> None:
        self._table = table
        if self.image is not None:
            self._qimage = self._coloured(self.image)
        self.update()

    def set_image(self, image: np.ndarray) -> None:
        pixels = np.ascontiguousarray(image, dtype=np.uint8)
        if self.image is None or self.image.shape != pixels.shape:
            self.prepareGeometryChange()
        self.image = pixels
        self._qimage = self._coloured(pixels)
        self.update()

    def _coloured(self, pixels: np.ndarray) -> QImage:
        """uint8 [rows, columns] levels through the colour table: a 32-bit image of its own."""
        rows, columns = pixels.shape
        indexed = QImage(pixels.data, columns, rows, columns, QImage.Format.Format_Indexed8)
        indexed.setColorTable(self._table)
        return indexed.convertToFormat(QImage.Format.Format_RGB32)

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt's name
        if self.image is None:
            return QRectF()
        rows, columns = self.image.shape
        return QRectF(0.0, 0.0, float(columns), float(rows))

    def paint(self, painter, *args) -> None:
        if self._qimage is not None:
            painter.drawImage(self.boundingRect(), self._qimage)


class SpectrogramView(pg.PlotWidget):
    def __init__(self, colormap: str = "inferno", parent=None):
        super().__init__(parent=parent, background="k")
        self.image_item = IndexedImageItem()
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
        lut = np.asarray(colormap.getLookupTable(0.0, 1.0, 256, alpha=False), dtype=np.uint8)
        self.image_item.set_color_table([qRgb(*rgb) for rgb in lut.tolist()])

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
        self.image_item.set_image(image)

    def shown(self) -> np.ndarray | None:
        return self.image_item.image
