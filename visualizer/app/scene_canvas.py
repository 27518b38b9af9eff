"""The image canvas: the newest scene, smoothly upscaled to the widget, aspect kept: whole with
black bars, or (`fill`) covering the widget with the overhang cropped. The mouse pointer over
it hides once it has been still for CURSOR_HIDE_SECONDS (a projected scene shows no arrow;
checked as each frame arrives, so no timer outlives the canvas) and comes back when the
mouse moves.

A title card (`show_title`): when a file starts, its title and artist (`TrackTags`, else its
name) fade in over the scene's lower left, stay and fade out, over `TITLE_CARD_SECONDS`, as
music visualizers show them. It is painted on the canvas only: recordings, saved pictures,
NDI and the HTTP picture carry the scene alone. `title_cards` (the panel's box, T) turns it
off for a show.
"""

from __future__ import annotations

import time

import numpy as np
from PyQt6.QtCore import QPointF, QRectF, Qt
from PyQt6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPainterPath, QPen
from PyQt6.QtWidgets import QSizePolicy, QWidget

from .frame_stats import FrameStats

CURSOR_HIDE_SECONDS = 2.0
TITLE_FADE_IN_SECONDS = 0.5
TITLE_FADE_OUT_SECONDS = 1.0
TITLE_CARD_SECONDS = 6.0  # fade in, stay, fade out
TITLE_HEIGHT_SHARE = 1 / 18  # the title's letters against the scene's height
TITLE_MIN_PIXELS = 14.0


def title_opacity(elapsed: float) -> float:
    """How opaque the title card is `elapsed` seconds after it was asked for: 0 -> 1 over
    the fade in, 1, then 1 -> 0 over the fade out that ends at TITLE_CARD_SECONDS."""
    if elapsed < 0.0 or elapsed >= TITLE_CARD_SECONDS:
        return 0.0
    fade_out_start = TITLE_CARD_SECONDS - TITLE_FADE_OUT_SECONDS
    if elapsed < TITLE_FADE_IN_SECONDS:
        return elapsed / TITLE_FADE_IN_SECONDS
    if elapsed > fade_out_start:
        return (TITLE_CARD_SECONDS - elapsed) / TITLE_FADE_OUT_SECONDS
    return 1.0


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
        self.title_cards = True
        self._title: tuple[str, str] | None = None  # (first line, second line)
        self._title_started = 0.0
        # ((title, width, height, pixel ratio), card): the card is drawn once per key
        self._card_cache: tuple[tuple, QImage] | None = None

    def set_title_cards(self, enabled: bool) -> None:
        self.title_cards = bool(enabled)
        self.update()

    def show_title(self, title: str, subtitle: str = "") -> None:
        """Fade in `title` (and `subtitle` below it) over the scene, from now."""
        self._title = (title, subtitle)
        self._title_started = time.perf_counter()
        self.update()

    def title_showing(self) -> tuple[str, str] | None:
        """The title card's lines while it is painted, else None."""
        if not self.title_cards or self._title is None:
            return None
        return self._title if title_opacity(time.perf_counter() - self._title_started) else None

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
        if self.title_showing() is not None:
            self._paint_title(painter)
        painter.end()
        if self._unshown is not None:
            sequence, onset_time = self._unshown
            self._unshown = None
            self.frames_painted += 1
            self.stats.displayed(sequence, onset_time, time.perf_counter())

    def _paint_title(self, painter: QPainter) -> None:
        """The title card over the visible scene's lower left, at its opacity now: drawn
        once per title and scene size (`_title_card`), then only blended each frame."""
        scene = self.target_rect().intersected(QRectF(self.rect()))
        card = self._title_card(round(scene.width()), round(scene.height()))
        painter.setOpacity(title_opacity(time.perf_counter() - self._title_started))
        strip = card.height() / card.devicePixelRatio()
        painter.drawImage(QPointF(scene.left(), scene.bottom() - strip), card)
        painter.setOpacity(1.0)

    def _title_card(self, width: int, height: int) -> QImage:
        """The card's letters for a scene `width` x `height` px: white with a dark outline,
        legible on snow and on night alike, on a transparent strip as wide as the scene (at
        the screen's own pixel density, so a HiDPI screen gets sharp letters)."""
        ratio = self.devicePixelRatioF()
        key = (self._title, width, height, ratio)
        if self._card_cache is not None and self._card_cache[0] == key:
            return self._card_cache[1]
        title, subtitle = self._title
        size = max(TITLE_MIN_PIXELS, height * TITLE_HEIGHT_SHARE)
        margin = size
        lines = [(title, size, QFont.Weight.Bold)]
        if subtitle:
            lines.append((subtitle, size * 0.7, QFont.Weight.Normal))
        strip = round(margin + sum(pixels * 1.25 for _, pixels, _ in lines) + margin / 2)
        strip = min(max(strip, 1), max(height, 1))
        card = QImage(
            round(max(width, 1) * ratio),
            round(strip * ratio),
            QImage.Format.Format_ARGB32_Premultiplied,
        )
        card.setDevicePixelRatio(ratio)
        card.fill(Qt.GlobalColor.transparent)
        painter = QPainter(card)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        baseline = strip - margin
        for text, pixels, weight in reversed(lines):
            font = QFont(self.font())
            font.setPixelSize(round(pixels))
            font.setWeight(weight)
            room = round(width - 2 * margin)
            text = QFontMetrics(font).elidedText(text, Qt.TextElideMode.ElideRight, room)
            path = QPainterPath()
            path.addText(QPointF(margin, baseline), font, text)
            painter.strokePath(path, QPen(QColor(0, 0, 0, 170), pixels / 6))
            painter.fillPath(path, QColor(255, 255, 255))
            baseline -= pixels * 1.25
        painter.end()
        self._card_cache = (key, card)
        return card
