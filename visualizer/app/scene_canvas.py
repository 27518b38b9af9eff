"""The image canvas: the newest scene, smoothly upscaled to the widget, aspect kept: whole with
black bars, or (`fill`) covering the widget with the overhang cropped. The mouse pointer over
it hides once it has been still for CURSOR_HIDE_SECONDS (a projected scene shows no arrow;
checked as each frame arrives, so no timer outlives the canvas) and comes back when the
mouse moves."""

from __future__ import annotations

import time

import numpy as np
from PyQt6.QtCore import QRectF, Qt
from PyQt6.QtGui import QColor, QImage, QPainter
from PyQt6.QtWidgets import QSizePolicy, QWidget

from .frame_stats import FrameStats

CURSOR_HIDE_SECONDS = 2.0


class SceneCanvas(QWidget):
    def __init__(self, stats: FrameStats, parent: QWidget | None = None):
        super().__init__(parent)
        self.stats = stats
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(160, 160)
        self._pixels: np.ndarray | None = None  # keeps the QImage's memory alive
        self._image: QImage | None = None
        self._unshown: tuple[int, float | None] | None = None
        self.frames_painted = 0
        self.fill = False  # cover a non-square widget (crop) instead of black bars
        self.setMouseTracking(True)
        self._pointer_moved = time.perf_counter()
        self._pointer_hidden = False

    def set_fill(self, fill: bool) -> None:
        self.fill = bool(fill)
        self.update()

    def show_frame(self, sequence: int, pixels: np.ndarray, onset_time: float | None) -> None:
        """pixels: uint8 [S, S, 3] RGB, C-contiguous; painted at the next paint event."""
        height, width, _ = pixels.shape
        self._pixels = pixels
        self._image = QImage(pixels.data, width, height, 3 * width, QImage.Format.Format_RGB888)
        if self._unshown is not None and onset_time is None:
            onset_time = self._unshown[1]
        self._unshown = (sequence, onset_time)
        self.update()
        still = time.perf_counter() - self._pointer_moved
        if not self._pointer_hidden and still >= CURSOR_HIDE_SECONDS:
            self._pointer_hidden = True
            self.setCursor(Qt.CursorShape.BlankCursor)

    def current_pixels(self) -> np.ndarray | None:
        return self._pixels

    def target_rect(self) -> QRectF:
        """The image-aspect rectangle centred in the widget: the largest inside it, or with
        `fill` the smallest that covers it (its overhang is cut off by the widget's edges)."""
        if self._image is None:
            return QRectF(self.rect())
        fit = min if not self.fill else max
        scale = fit(self.width() / self._image.width(), self.height() / self._image.height())
        width, height = self._image.width() * scale, self._image.height() * scale
        return QRectF((self.width() - width) / 2, (self.height() - height) / 2, width, height)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self._pointer_moved = time.perf_counter()
        if self._pointer_hidden:
            self._pointer_hidden = False
            self.unsetCursor()
        super().mouseMoveEvent(event)

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(0, 0, 0))
        if self._image is not None:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            painter.drawImage(self.target_rect(), self._image)
        painter.end()
        if self._unshown is not None:
            sequence, onset_time = self._unshown
            self._unshown = None
            self.frames_painted += 1
            self.stats.displayed(sequence, onset_time, time.perf_counter())
