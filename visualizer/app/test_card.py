"""The test card the canvas shows in place of the scene while a projector or screen is set
up (G): a white edge one line wide on every side (each must be seen, else the screen crops
it: overscan), a grid of squares and a circle (they must look square and round, else the
screen stretches the picture), colour patches (a missing primary is a loose cable), a
triangle pointing up and "top left" written in the corner (the orientation the audience
sees), and in the middle the canvas's size in the screen's pixels, how it is turned, and
the screen's name. Below them a sound check: a disc that lights with the beat envelope of
the frame the app just made, and a meter of the audio's level, so the music's arrival and
its beats can be checked from where the screen is (and the A/V offset set by eye and ear).
Painted in the same turned and mirrored coordinates as the scene.
"""

from __future__ import annotations

from PyQt6.QtCore import QPointF, QRectF, Qt
from PyQt6.QtGui import QColor, QFont, QPainter, QPen, QPolygonF

GRID_CELLS = 8  # squares across the shorter side
EDGE_SHARE = 1 / 360  # the white edge's width against the shorter side (at least 1 px)
CIRCLE_SHARE = 0.8  # the circle's diameter against the shorter side
PATCH_COLOURS = (  # as colour bars order them, then mid grey
    (255, 255, 255),
    (255, 255, 0),
    (0, 255, 255),
    (0, 255, 0),
    (255, 0, 255),
    (255, 0, 0),
    (0, 0, 255),
    (128, 128, 128),
)
GRID_GREY = 96
TEXT_SHARE = 1 / 24  # the letters' height against the shorter side
METER_FLOOR_DB = -60.0  # the level meter's empty end; its full end is 0 dBFS


def edge_width(width: float, height: float) -> int:
    """The white edge's width in pixels on a `width` x `height` card."""
    return max(1, round(min(width, height) * EDGE_SHARE))


def meter_share(level_db: float) -> float:
    """How much of the level meter `level_db` fills: 0 at METER_FLOOR_DB and below, 1 at
    0 dBFS."""
    return min(max((level_db - METER_FLOOR_DB) / -METER_FLOOR_DB, 0.0), 1.0)


def beat_disc(width: float, height: float) -> tuple[QPointF, float]:
    """The beat disc's centre and radius: below the patches, inside the circle."""
    side = min(width, height) / GRID_CELLS / 2
    return QPointF(width / 2, height / 2 + side * 4.5), side


def meter_rect(width: float, height: float) -> QRectF:
    """The level meter's bar, as wide as the patches, below the circle."""
    side = min(width, height) / GRID_CELLS / 2
    return QRectF(width / 2 - side * 4, height / 2 + side * 6.75, side * 8, side / 2)


def patch_rects(width: float, height: float) -> list[QRectF]:
    """The colour patches' squares (PATCH_COLOURS' order), a row centred below the middle."""
    side = min(width, height) / GRID_CELLS / 2
    left = width / 2 - side * len(PATCH_COLOURS) / 2
    top = height / 2 + side * 2
    return [QRectF(left + index * side, top, side, side) for index in range(len(PATCH_COLOURS))]


def paint_test_card(
    painter: QPainter,
    width: float,
    height: float,
    lines: list[str],
    envelope: float = 0.0,
    level_db: float = METER_FLOOR_DB,
) -> None:
    """The card over (0, 0)-(`width`, `height`) in the painter's coordinates, with `lines`
    of text in the middle, the beat disc lit by `envelope` (0-1) and the meter at
    `level_db`."""
    short = min(width, height)
    painter.fillRect(QRectF(0, 0, width, height), QColor(0, 0, 0))
    cell = short / GRID_CELLS
    grey = QColor(GRID_GREY, GRID_GREY, GRID_GREY)
    # one-pixel lines as filled pixel columns and rows, so a turned or mirrored card lights
    # the turned or mirrored pixels exactly
    for step in range(-int(width / 2 // cell), int(width / 2 // cell) + 1):
        painter.fillRect(QRectF(round(width / 2 + step * cell), 0, 1, height), grey)
    for step in range(-int(height / 2 // cell), int(height / 2 // cell) + 1):
        painter.fillRect(QRectF(0, round(height / 2 + step * cell), width, 1), grey)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setPen(QPen(QColor(255, 255, 255), max(1.0, short / 400)))
    diameter = short * CIRCLE_SHARE
    painter.drawEllipse(QPointF(width / 2, height / 2), diameter / 2, diameter / 2)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(255, 255, 255))
    arrow = cell / 2
    painter.drawPolygon(
        QPolygonF(
            [
                QPointF(width / 2, arrow / 2),
                QPointF(width / 2 + arrow / 2, arrow * 1.3),
                QPointF(width / 2 - arrow / 2, arrow * 1.3),
            ]
        )
    )
    centre, radius = beat_disc(width, height)
    light = round(255 * min(max(envelope, 0.0), 1.0))
    painter.setBrush(QColor(light, light, light))
    painter.setPen(QPen(QColor(255, 255, 255), 1))
    painter.drawEllipse(centre, radius, radius)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
    meter = meter_rect(width, height)
    painter.fillRect(meter, QColor(GRID_GREY // 2, GRID_GREY // 2, GRID_GREY // 2))
    filled = QRectF(
        meter.left(), meter.top(), meter.width() * meter_share(level_db), meter.height()
    )
    painter.fillRect(filled, QColor(255, 255, 255))
    for rect, (red, green, blue) in zip(patch_rects(width, height), PATCH_COLOURS, strict=True):
        painter.fillRect(rect, QColor(red, green, blue))
    font = QFont(painter.font())
    font.setPixelSize(max(10, round(short * TEXT_SHARE)))
    painter.setFont(font)
    painter.setPen(QColor(255, 255, 255))
    line_height = font.pixelSize() * 1.4
    text_top = height / 2 - line_height * (len(lines) + 0.5)
    painter.drawText(
        QRectF(0, text_top, width, line_height * len(lines)),
        Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom,
        "\n".join(lines),
    )
    corner = edge_width(width, height) + font.pixelSize() / 2
    painter.drawText(
        QRectF(corner, corner, width / 2, line_height),
        Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
        "top left",
    )
    edge = edge_width(width, height)
    white = QColor(255, 255, 255)
    painter.fillRect(QRectF(0, 0, width, edge), white)
    painter.fillRect(QRectF(0, height - edge, width, edge), white)
    painter.fillRect(QRectF(0, 0, edge, height), white)
    painter.fillRect(QRectF(width - edge, 0, edge, height), white)
