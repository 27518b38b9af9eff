"""The image canvas: the newest scene, smoothly upscaled to the widget, aspect kept: whole with
black bars, or (`fill`) covering the widget with the overhang cropped. The mouse pointer over
it hides once it has been still for CURSOR_HIDE_SECONDS (a projected scene shows no arrow;
checked as each frame arrives, so no timer outlives the canvas) and comes back when the
mouse moves; while the corners are being pinned it stays, a cross, to aim at them.

A title card (`show_title`): when a file starts, its title and artist (`TrackTags`, else its
name) fade in over the scene's lower left, stay and fade out, over `TITLE_CARD_SECONDS`, as
music visualizers show them. It is painted on the canvas only: recordings, saved pictures,
NDI and the HTTP picture carry the scene alone. `title_cards` (the panel's box, T) turns it
off for a show.

The canvas turns and mirrors everything it paints by its `orientation` (`CanvasOrientation`:
a projector on its side, rear projection), then draws it inside its `corner_pin`
(`CornerPin`: keystone for a projector not square on to its surface), and shows the test
card (`test_card.py`) in place of the scene while `test_card` is on, for setting up a
projector or screen. While the corners are being pinned (`pinning`: the corner picked) the
test card shows with a handle on each corner; the mouse drags them (`corner_dragged` says
where to, and the window decides).
"""

from __future__ import annotations

import math
import time

import numpy as np
from PyQt6.QtCore import QPointF, QRectF, Qt, pyqtSignal
from PyQt6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QImage,
    QPainter,
    QPainterPath,
    QPen,
    QPolygonF,
    QTransform,
)
from PyQt6.QtWidgets import QSizePolicy, QWidget

from visualizer.frontend.level import GATE_DB, SILENT_DB
from visualizer.resize import centre_crop

from .canvas_orientation import CanvasOrientation
from .corner_pin import CORNER_NAMES, CornerPin
from .frame_stats import FrameStats
from .qt_resize import converted_rgb8
from .test_card import paint_test_card

CURSOR_HIDE_SECONDS = 2.0
TITLE_FADE_IN_SECONDS = 0.5
TITLE_FADE_OUT_SECONDS = 1.0
TITLE_CARD_SECONDS = 6.0  # fade in, stay, fade out
TITLE_HEIGHT_SHARE = 1 / 18  # the title's letters against the scene's height
TITLE_MIN_PIXELS = 14.0
TITLE_CARDS_KEPT = 2  # drawn cards kept: the canvas's and its preview's
HANDLE_SHARE = 1 / 30  # a corner handle's radius against the canvas's shorter side
HANDLE_MIN_PIXELS = 10.0
PICKED_HANDLE = QColor(255, 210, 0)
FINE_DRAG = 0.1  # how far a corner moves for the mouse's move with Shift held
# A pinned picture enlarged on the screen is mapped in perspective onto a smaller image, at
# PIN_OVERSAMPLING times the picture's own pixels, then enlarged by Qt's fast path; only
# when that image has at most 1/PIN_MIN_REDUCTION^2 of the screen's pixels (`pin_reduction`)
PIN_OVERSAMPLING = 2.0
PIN_MIN_REDUCTION = 1.5
PINNING_HELP = (  # short lines: the card's letters are a 24th of the shorter side
    "drag a corner (Shift: slowly) or pick one: 1-4",
    "the arrows move it (Shift: 10 px)",
    "Backspace: it goes back, Delete: all, C: done",
)


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


def orientation_transform(orientation: CanvasOrientation, width: float, height: float):
    """Picture-area coordinates (`CanvasOrientation.picture_size`) -> the coordinates of a
    `width` x `height` widget: the area's centre on the widget's, turned clockwise, then
    mirrored."""
    area_width, area_height = orientation.picture_size(width, height)
    transform = QTransform()
    transform.translate(width / 2, height / 2)
    if orientation.mirrored:
        transform.scale(-1.0, 1.0)
    transform.rotate(orientation.rotation)
    transform.translate(-area_width / 2, -area_height / 2)
    return transform


def pin_transform(pin: CornerPin, width: float, height: float) -> QTransform:
    """Widget coordinates -> where `pin` draws them: the `width` x `height` rectangle onto
    the quadrilateral through its corners (a perspective map; none when not pinned)."""
    if not pin.pinned:
        return QTransform()
    screen = QPolygonF(
        [QPointF(x * width, y * height) for x, y in ((0, 0), (1, 0), (1, 1), (0, 1))]
    )
    pinned = QPolygonF([QPointF(x * width, y * height) for x, y in pin.corners])
    transform = QTransform()
    if not QTransform.quadToQuad(screen, pinned, transform):  # a CornerPin is never singular
        raise ValueError(f"no perspective map onto {pin.text()}")
    return transform


def picture_rect(image: QImage, area: QRectF, fill: bool) -> QRectF:
    """The image-aspect rectangle centred in `area`: the largest inside it, or with `fill`
    the smallest that covers it (its overhang is cut off by the edges)."""
    fit = min if not fill else max
    scale = fit(area.width() / image.width(), area.height() / image.height())
    width, height = image.width() * scale, image.height() * scale
    return QRectF((area.width() - width) / 2, (area.height() - height) / 2, width, height)


def canvas_image(pixels: np.ndarray) -> QImage:
    """uint8 [H, W, 3] RGB pixels as the 32-bit image (Format_RGB32, its own copy) that
    `paint_picture` paints: Qt scales 32-bit pixels three times as fast as 24-bit ones, and
    the copy costs less than a millisecond (`musicscape bench`'s canvas_frame_in)."""
    return converted_rgb8(pixels, QImage.Format.Format_RGB32)


def pin_reduction(picture_scale: float) -> float:
    """How many times smaller than the screen a pinned picture that the layout enlarges
    `picture_scale` times is mapped in perspective (then enlarged to the screen): at
    PIN_OVERSAMPLING times its own pixels, or 1 (mapped onto the screen itself) when that
    would save less than PIN_MIN_REDUCTION in each direction."""
    reduction = picture_scale / PIN_OVERSAMPLING
    return reduction if reduction >= PIN_MIN_REDUCTION else 1.0


def paint_picture(
    painter: QPainter,
    image: QImage | None,
    width: int,
    height: int,
    orientation: CanvasOrientation,
    fill: bool,
    pin: CornerPin,
) -> QRectF:
    """A `width` x `height` canvas black, then `image` on it (if any) as `orientation` and
    `fill` lay it out, smoothly scaled, inside `pin`'s corners; the painter is left in
    picture-area coordinates, and the picture area is returned.
    `image` is 32-bit (Format_RGB32, as `SceneCanvas.show_frame` keeps it): Qt scales and
    maps those pixels by its fast paths (a 1024-px picture on 1920 x 1080 here: 2.2 ms
    against 7.3 ms from 24-bit RGB as made, 12.7 against 17 ms pinned). The pixels are
    turned and mirrored first (exact: quarter turns only move them), so Qt scales them
    upright (scaling them turned took 10.8 ms against 7.6 upright, from 24-bit). Pinned, Qt
    maps them in perspective, its slowest path, per pixel it fills: a picture the layout
    enlarges is mapped onto a smaller image (`pin_reduction`) that the fast path enlarges."""
    painter.fillRect(0, 0, width, height, QColor(0, 0, 0))
    keystone = pin_transform(pin, width, height)
    transform = orientation_transform(orientation, width, height)
    area = QRectF(0, 0, *orientation.picture_size(width, height))
    if image is not None:
        target = transform.mapRect(picture_rect(image, area, fill))
        if orientation.rotation:
            turn = QTransform().rotate(orientation.rotation)
            image = image.transformed(turn, Qt.TransformationMode.FastTransformation)
        if orientation.mirrored:
            image = image.mirrored(True, False)
        # the layout's enlargement in the device's pixels (a HiDPI screen has more of them)
        scale = min(target.width() / image.width(), target.height() / image.height())
        device_scale = scale * painter.device().devicePixelRatioF()
        reduction = pin_reduction(device_scale) if pin.pinned else 1.0
        draw_pinned(painter, image, target, keystone, width, height, reduction)
    painter.setTransform(transform * keystone)
    return area


def draw_pinned(
    painter: QPainter,
    image: QImage,
    target: QRectF,
    keystone: QTransform,
    width: int,
    height: int,
    reduction: float,
) -> None:
    """`image` smoothly scaled into `target` and mapped by `keystone` (the identity when
    not pinned) onto the painter's `width` x `height` screen: directly (`reduction` 1), or
    mapped onto an image with `reduction` times fewer pixels across than the screen's
    device has, its edges antialiased (enlarged, an aliased edge would step by `reduction`
    pixels), which is then enlarged onto it."""
    if reduction == 1.0:
        painter.setTransform(keystone)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        painter.drawImage(target, image)
        return
    ratio = painter.device().devicePixelRatioF()
    small_width = math.ceil(width * ratio / reduction)
    small_height = math.ceil(height * ratio / reduction)
    small = QImage(small_width, small_height, QImage.Format.Format_RGB32)
    small.fill(QColor(0, 0, 0))
    mapped = QPainter(small)
    mapped.setTransform(keystone * QTransform.fromScale(small_width / width, small_height / height))
    mapped.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
    mapped.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    mapped.drawImage(target, image)
    mapped.end()
    painter.resetTransform()
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
    painter.drawImage(QRectF(0, 0, width, height), small)


class SceneCanvas(QWidget):
    corner_dragged = pyqtSignal(object)  # the CornerPin the mouse has dragged a corner to

    def __init__(self, stats: FrameStats, parent: QWidget | None = None):
        super().__init__(parent)
        self.stats = stats
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(160, 160)
        self._pixels: np.ndarray | None = None  # the picture shown, as the stage made it
        self._image: QImage | None = None  # the same in 32-bit pixels, as painted
        self._unshown: tuple[int, float | None] | None = None
        self.frames_painted = 0
        self.fill = False  # cover a non-square widget (crop) instead of black bars
        self.setMouseTracking(True)
        self._pointer_moved = time.perf_counter()
        self._pointer_hidden = False
        self.title_cards = True
        self._title: tuple[str, str] | None = None  # (first line, second line)
        self._title_started = 0.0
        # (title, width, height, pixel ratio) -> card: drawn once per key, for the canvas and
        # its preview, which paint the same title at their own sizes
        self._card_cache: dict[tuple, QImage] = {}
        self.orientation = CanvasOrientation()
        self.corner_pin = CornerPin()
        self.pinning: int | None = None  # the corner picked while the corners are pinned
        # a corner's drag: the corner, where the mouse and the corner were when it began
        # (or Shift was pressed or let go), and whether Shift slows it
        self._drag: tuple[int, QPointF, tuple[float, float], bool] | None = None
        self.test_card = False
        # the sound check the test card shows: the beat envelope, the level, the tempo
        self._sound: tuple[float, float, float | None] = (0.0, SILENT_DB, None)

    def set_orientation(self, orientation: CanvasOrientation) -> None:
        self.orientation = orientation
        self.update()

    def set_corner_pin(self, pin: CornerPin) -> None:
        self.corner_pin = pin
        self.update()

    def set_pinning(self, corner: int | None) -> None:
        """Pin the corners (the test card with a handle on each, `corner` picked), or not
        (None)."""
        self.pinning = corner
        self._drag = None
        self._show_pointer()
        self.update()

    def set_test_card(self, shown: bool) -> None:
        self.test_card = bool(shown)
        self.update()

    def set_sound(self, envelope: float, level_db: float, tempo_bpm: float | None) -> None:
        """The newest frame's beat envelope (0-1), the audio's level (dBFS) and tempo, for the
        test card's sound check (asked to repaint only while the card shows)."""
        self._sound = (envelope, level_db, tempo_bpm)
        if self.test_card:
            self.update()

    def test_card_lines(self) -> list[str]:
        """The test card's text: the canvas's size in the screen's own pixels, how it is
        turned, the screen's name (when the platform names it), the sound check; while
        pinning, the corner picked and the keys in place of the screen's name and the sound
        (the lines grow up from the middle, and more would run off a 1080p card's top)."""
        ratio = self.devicePixelRatioF()
        screen = self.screen()
        lines = [
            "musicscape test card",
            f"{round(self.width() * ratio)} x {round(self.height() * ratio)} px",
            self.orientation.describe() + (", corners pinned" if self.corner_pin.pinned else ""),
        ]
        if self.pinning is not None:
            x, y = self.corner_pin.corners[self.pinning]
            at = f"{round(x * self.width() * ratio)}, {round(y * self.height() * ratio)} px"
            picked = f"corner {self.pinning + 1}, {CORNER_NAMES[self.pinning]}, at {at}"
            return [*lines, picked, *PINNING_HELP]
        if screen is not None and screen.name():
            lines.append(f"on {screen.name()}")
        _, level_db, tempo_bpm = self._sound
        sound = "sound: silent" if level_db <= GATE_DB else f"sound: {round(level_db)} dBFS"
        if tempo_bpm is not None:
            sound += f", {tempo_bpm:.0f} BPM"
        return [*lines, sound, "G: back to the scene"]

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
        """pixels: uint8 [S, S, 3] RGB, C-contiguous; painted at the next paint event, from
        their 32-bit copy (`canvas_image`), made once here for every paint of it (the
        canvas's and its preview's)."""
        self._pixels = pixels
        self._image = canvas_image(pixels)
        if self._unshown is not None and onset_time is None:
            onset_time = self._unshown[1]
        self._unshown = (sequence, onset_time)
        self.update()
        still = time.perf_counter() - self._pointer_moved
        if not self._pointer_hidden and still >= CURSOR_HIDE_SECONDS and self.pinning is None:
            self._pointer_hidden = True
            self.setCursor(Qt.CursorShape.BlankCursor)

    def current_pixels(self) -> np.ndarray | None:
        return self._pixels

    def shown_pixels(self) -> np.ndarray | None:
        """The part of `current_pixels` the canvas shows (`shown_aspect`: all of a square
        picture with black bars, the middle where it fills a wide screen), as a view."""
        return None if self._pixels is None else centre_crop(self._pixels, self.shown_aspect())

    def picture_area(self) -> QRectF:
        """The widget's area in the picture's coordinates (before `orientation` turns and
        mirrors it onto the widget): the widget's size, or its height by its width when
        turned a quarter."""
        return QRectF(0, 0, *self.orientation.picture_size(self.width(), self.height()))

    def target_rect(self) -> QRectF:
        """Where the scene lies in the picture area (`picture_rect`; the whole area before
        the first scene)."""
        area = self.picture_area()
        return area if self._image is None else picture_rect(self._image, area, self.fill)

    def shown_aspect(self) -> float:
        """The width by the height of the part of the picture the canvas shows, upright (as
        made, before `orientation` turns it): 1 for a square picture with black bars; with
        `fill`, the picture area's shape, its overhang cut off (a turned canvas's turned)."""
        area = self.picture_area()
        if self._image is None:
            shown = area if self.fill else QRectF(0, 0, 1, 1)
        else:
            shown = picture_rect(self._image, area, self.fill).intersected(area)
        if shown.width() <= 0 or shown.height() <= 0:
            return 1.0
        return shown.width() / shown.height()

    def _show_pointer(self) -> None:
        """The pointer shown: a cross while pinning, else the usual arrow."""
        self._pointer_hidden = False
        if self.pinning is not None:
            self.setCursor(Qt.CursorShape.CrossCursor)
        else:
            self.unsetCursor()

    def handle_points(self) -> list[QPointF]:
        """The pinned corners in widget coordinates, in the order of CORNER_NAMES."""
        return [QPointF(x * self.width(), y * self.height()) for x, y in self.corner_pin.corners]

    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt's name
        """While pinning: pick the corner nearest the press and drag it from there (it
        moves with the mouse, not to it, so a press alone moves nothing; with Shift held,
        by a tenth of the mouse's move, for the last pixels)."""
        if self.pinning is None or event.button() != Qt.MouseButton.LeftButton:
            super().mousePressEvent(event)
            return
        press = event.position()
        distances = [(point - press).manhattanLength() for point in self.handle_points()]
        corner = distances.index(min(distances))
        self.pinning = corner
        self._drag = (corner, press, self.corner_pin.corners[corner], False)
        self.update()

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self._drag = None
        super().mouseReleaseEvent(event)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self._pointer_moved = time.perf_counter()
        if self._pointer_hidden:
            self._show_pointer()
        if self._drag is not None and self.pinning is not None:
            corner, press, (x, y), fine = self._drag
            if fine != bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier):
                # Shift pressed or let go: the drag goes on from here at the other speed
                self._drag = (corner, event.position(), self.corner_pin.corners[corner], not fine)
                super().mouseMoveEvent(event)
                return
            moved = (event.position() - press) * (FINE_DRAG if fine else 1.0)
            x, y = x + moved.x() / max(self.width(), 1), y + moved.y() / max(self.height(), 1)
            try:
                pin = self.corner_pin.moved(corner, x, y)
            except ValueError:
                pin = self.corner_pin  # that far would fold the picture: it stays
            if pin != self.corner_pin:
                self.corner_dragged.emit(pin)
        super().mouseMoveEvent(event)

    def paint_view(
        self,
        painter: QPainter,
        width: int,
        height: int,
        orientation: CanvasOrientation,
        pin: CornerPin,
    ) -> None:
        """What the canvas shows (the scene and its title card, or the test card) painted on
        `width` x `height` as `orientation` turns it and `pin` pins it: the canvas's own
        paint, and its preview's."""
        card = self.test_card or self.pinning is not None
        image = None if card else self._image
        area = paint_picture(painter, image, width, height, orientation, self.fill, pin)
        if card:
            envelope, level_db, _ = self._sound
            lines = self.test_card_lines()
            paint_test_card(painter, area.width(), area.height(), lines, envelope, level_db)
        elif self.title_showing() is not None:
            self._paint_title(painter, area)

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        self.paint_view(painter, self.width(), self.height(), self.orientation, self.corner_pin)
        if self.pinning is not None:
            self._paint_handles(painter)
        painter.end()
        if self._unshown is not None:
            sequence, onset_time = self._unshown
            self._unshown = None
            self.frames_painted += 1
            self.stats.displayed(sequence, onset_time, time.perf_counter())

    def _paint_handles(self, painter: QPainter) -> None:
        """A ring on each pinned corner, numbered 1-4 inside the picture, the picked one
        filled yellow: what the mouse and the arrows move."""
        painter.resetTransform()
        painter.setOpacity(1.0)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        radius = max(HANDLE_MIN_PIXELS, min(self.width(), self.height()) * HANDLE_SHARE)
        points = self.handle_points()
        middle = sum(points, QPointF()) / len(points)
        font = QFont(self.font())
        font.setPixelSize(round(radius * 1.2))
        font.setWeight(QFont.Weight.Bold)
        painter.setFont(font)
        for corner, point in enumerate(points):
            colour = PICKED_HANDLE if corner == self.pinning else QColor(255, 255, 255)
            painter.setPen(QPen(QColor(0, 0, 0), 3))
            painter.setBrush(colour if corner == self.pinning else Qt.BrushStyle.NoBrush)
            painter.drawEllipse(point, radius, radius)
            painter.setPen(QPen(colour, 2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawEllipse(point, radius - 2, radius - 2)
            # the number inside the picture, below a top corner and above a bottom one,
            # clear of the test card's "top left"
            inward = middle - point
            label = point + QPointF(
                math.copysign(radius, inward.x()), math.copysign(radius * 2.6, inward.y())
            )
            box = QRectF(label.x() - radius, label.y() - radius, 2 * radius, 2 * radius)
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, str(corner + 1))

    def _paint_title(self, painter: QPainter, area: QRectF) -> None:
        """The title card over the visible scene's lower left in the picture `area`, at its
        opacity now: drawn once per title and scene size (`_title_card`), then only blended
        each frame."""
        scene = area
        if self._image is not None:
            scene = picture_rect(self._image, area, self.fill).intersected(area)
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
        if key in self._card_cache:
            return self._card_cache[key]
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
        while len(self._card_cache) >= TITLE_CARDS_KEPT:  # the oldest goes
            del self._card_cache[next(iter(self._card_cache))]
        self._card_cache[key] = card
        return card


class CanvasPreview(QWidget):
    """What `canvas` shows, upright (not turned, mirrored or pinned: as the audience sees it), for
    the main window while the canvas is alone on another screen. It paints only when asked
    (`update`, once per frame the canvas gets) and counts in no frame figure."""

    def __init__(self, canvas: SceneCanvas, parent: QWidget | None = None):
        super().__init__(parent)
        self.canvas = canvas
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(160, 90)
        self.paints = 0

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        self.canvas.paint_view(
            painter, self.width(), self.height(), CanvasOrientation(), CornerPin()
        )
        painter.end()
        self.paints += 1
