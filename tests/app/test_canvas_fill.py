"""The canvas on a non-square widget: the whole scene with black bars, or (fill) the widget
covered by the scene with its overhang cropped; F toggles it and the choice persists. The
mouse pointer over it hides while still and comes back when moved."""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QPoint, QRectF, Qt
from PyQt6.QtTest import QTest

from visualizer.app.frame_stats import FrameStats
from visualizer.app.scene_canvas import CURSOR_HIDE_SECONDS, SceneCanvas


def scene() -> np.ndarray:
    """8x8 RGB: top half red, bottom half green, the leftmost column blue."""
    pixels = np.zeros((8, 8, 3), np.uint8)
    pixels[:4] = (255, 0, 0)
    pixels[4:] = (0, 255, 0)
    pixels[:, 0] = (0, 0, 255)
    return pixels


def colour_at(canvas: SceneCanvas, x: int, y: int) -> tuple[int, int, int]:
    colour = canvas.grab().toImage().pixelColor(x, y)
    return colour.red(), colour.green(), colour.blue()


def test_bars_by_default_and_cropped_cover_with_fill(qtbot):
    canvas = SceneCanvas(FrameStats())
    qtbot.addWidget(canvas)
    canvas.resize(400, 200)
    canvas.show_frame(1, scene(), None)
    assert canvas.target_rect() == QRectF(100, 0, 200, 200)
    assert colour_at(canvas, 50, 100) == (0, 0, 0)  # a bar
    assert colour_at(canvas, 200, 50) == (255, 0, 0)
    assert colour_at(canvas, 110, 100)[2] > 200  # the blue column at the picture's left edge

    canvas.set_fill(True)
    assert canvas.target_rect() == QRectF(0, -100, 400, 400)
    assert colour_at(canvas, 10, 20)[2] > 200  # the blue column now at the widget's edge
    assert colour_at(canvas, 200, 10) == (255, 0, 0)  # the top quarter of the scene is cut
    assert colour_at(canvas, 200, 190) == (0, 255, 0)
    assert colour_at(canvas, 390, 100) != (0, 0, 0)  # no bar anywhere

    canvas.resize(200, 400)  # a portrait widget: the sides are cropped instead
    assert canvas.target_rect() == QRectF(-100, 0, 400, 400)


def test_the_shape_of_the_picture_shown_is_what_a_recording_takes(qtbot):
    canvas = SceneCanvas(FrameStats())
    qtbot.addWidget(canvas)
    canvas.resize(640, 360)
    assert canvas.shown_aspect() == 1.0  # no picture yet, bars: it will be square
    canvas.set_fill(True)
    assert canvas.shown_aspect() == 640 / 360  # no picture yet: the whole widget
    canvas.show_frame(1, scene(), None)
    assert canvas.shown_aspect() == 640 / 360
    canvas.resize(300, 600)
    assert canvas.shown_aspect() == 0.5
    canvas.set_fill(False)
    assert canvas.shown_aspect() == 1.0


def test_f_toggles_fill_and_it_persists(qtbot, make_window, model_dir):
    window = make_window(model_dir)
    assert not window.canvas.fill
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)  # shortcuts need an active window
    qtbot.keyClick(window, Qt.Key.Key_F)
    assert window.canvas.fill and window.settings.canvas_fill
    assert "fill the screen" in window.help_overlay.text()
    window.close()
    again = make_window(model_dir)
    assert again.canvas.fill
    again.toggle_fill()
    assert not again.canvas.fill and not again.settings.canvas_fill


def test_the_pointer_hides_while_still_and_comes_back_when_moved(qtbot):
    canvas = SceneCanvas(FrameStats())
    qtbot.addWidget(canvas)
    canvas.resize(200, 200)
    canvas.show()
    blank, arrow = Qt.CursorShape.BlankCursor, Qt.CursorShape.ArrowCursor
    frames = iter(range(1, 1_000_000))

    def shown_with(shape) -> bool:  # frames keep arriving, as in the app
        canvas.show_frame(next(frames), scene(), None)
        return canvas.cursor().shape() == shape

    assert shown_with(arrow)  # the pointer has not been still long yet
    qtbot.waitUntil(lambda: shown_with(blank), timeout=round(CURSOR_HIDE_SECONDS * 3000))
    QTest.mouseMove(canvas, QPoint(50, 60))
    assert shown_with(arrow)  # moved: back at once, and hidden again once still
    qtbot.waitUntil(lambda: shown_with(blank), timeout=round(CURSOR_HIDE_SECONDS * 3000))
    canvas.set_pinning(0)  # pinning corners: a cross to aim with, which stays however still
    assert shown_with(Qt.CursorShape.CrossCursor)
    qtbot.wait(round(CURSOR_HIDE_SECONDS * 1500))
    assert shown_with(Qt.CursorShape.CrossCursor)
    canvas.set_pinning(None)  # done: still that long, it hides as the next frame comes
    assert shown_with(blank)
