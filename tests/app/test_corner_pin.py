"""The canvas's corner pin (keystone): the pin's rules (on the screen, clockwise, convex, big
enough) in words; the perspective map puts the picture's centre where a projective map
must, at the crossing of the pinned quadrilateral's diagonals (an affine map would put it
elsewhere); the pin comes after the turn and only the canvas is pinned; the mouse drags a
corner, C and the keys pick and move them, the panel squares them again, the command line
and the remotes (OSC's address over real HTTP) set them, and the pin is remembered."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PyQt6.QtCore import QEvent, QPointF, Qt
from PyQt6.QtGui import QMouseEvent
from PyQt6.QtWidgets import QApplication

from visualizer.app.app_settings import AppSettings, settings_from_file
from visualizer.app.canvas_orientation import CanvasOrientation
from visualizer.app.corner_pin import SQUARE, CornerPin, quad_area
from visualizer.app.frame_stats import FrameStats
from visualizer.app.osc_query import namespace
from visualizer.app.remote_arguments import corner_nudge_value, corner_value
from visualizer.app.scene_canvas import CanvasPreview, SceneCanvas, pin_transform

from .test_canvas_orientation import (
    BLUE,
    GREEN,
    RED,
    WHITE,
    command_line,
    grabbed,
    quadrants,
    window_from_command_line,
)
from .test_http_remote import ask

BLACK = (0, 0, 0)
TRAPEZOID = ((0.2, 0.0), (0.8, 0.0), (1.0, 1.0), (0.0, 1.0))  # a projector tilted up


def test_a_pin_keeps_its_corners_on_the_screen_in_order_and_big_enough():
    assert not CornerPin().pinned and CornerPin().corners == SQUARE
    assert CornerPin(TRAPEZOID).pinned
    with pytest.raises(ValueError, match=r"the top right corner \(1.2, 0\) is off the screen"):
        CornerPin(((0, 0), (1.2, 0), (1, 1), (0, 1)))
    with pytest.raises(ValueError, match="the bottom left corner \\(nan, 1\\) is off the screen"):
        CornerPin(((0, 0), (1, 0), (1, 1), (float("nan"), 1)))
    with pytest.raises(ValueError, match="fold the picture over itself"):
        CornerPin(((0, 0), (1, 0), (0, 1), (1, 1)))  # bottom corners swapped: a bow tie
    with pytest.raises(ValueError, match="fold the picture over itself"):
        CornerPin(((0, 0), (0, 1), (1, 1), (1, 0)))  # anticlockwise: the picture mirrored
    with pytest.raises(ValueError, match="fold the picture over itself"):
        CornerPin(((0, 0), (1, 0), (0.2, 0.2), (0, 1)))  # an inward corner
    with pytest.raises(ValueError, match="leave the picture 4% of the screen; a pin keeps"):
        CornerPin(((0.4, 0.4), (0.6, 0.4), (0.6, 0.6), (0.4, 0.6)))
    with pytest.raises(ValueError, match="a corner pin has 4 corners, not 3"):
        CornerPin(((0, 0), (1, 0), (1, 1)))
    assert quad_area(TRAPEZOID) == pytest.approx(0.8)


def test_a_corner_moves_as_far_as_it_can_and_goes_back():
    pin = CornerPin().nudged(0, -0.1, 0.05)  # stopped at the left edge
    assert pin.corners[0] == (0.0, 0.05)
    assert pin.nudged(0, 0.9, 0.9) is pin  # past the opposite corner: it would fold
    assert pin.reset(0) == CornerPin()
    with pytest.raises(ValueError, match="fold"):
        pin.moved(1, 0.0, 0.9)
    assert CornerPin(TRAPEZOID).moved(2, 2.0, 0.5).corners[2] == (1.0, 0.5)  # kept on screen


def test_a_pin_is_written_and_read_back_in_words():
    pin = CornerPin(((0.1, 0.05), (1, 0), (0.875, 1), (0, 1)))
    assert pin.text() == "0.1,0.05 1,0 0.875,1 0,1"
    assert CornerPin.parse(pin.text()) == pin
    assert CornerPin.parse("none") == CornerPin() and CornerPin().text() == "none"
    assert pin.describe() == "corners pinned: top left +10.0%, +5.0%; bottom right -12.5%, +0.0%"
    assert CornerPin().describe() == "corners not pinned"
    with pytest.raises(ValueError, match="'0.1;' is not a corner|'0.1' is not a corner"):
        CornerPin.parse("0.1 1,0 1,1 0,1")
    with pytest.raises(ValueError, match="'left,top' is not a corner: corners are four x,y"):
        CornerPin.parse("left,top 1,0 1,1 0,1")


def test_the_map_sends_the_screen_s_corners_to_the_pin_s_and_its_centre_to_the_diagonals():
    width, height = 400.0, 300.0
    transform = pin_transform(CornerPin(TRAPEZOID), width, height)
    for (x, y), (pinned_x, pinned_y) in zip(SQUARE, TRAPEZOID, strict=True):
        mapped = transform.map(QPointF(x * width, y * height))
        assert (mapped.x(), mapped.y()) == pytest.approx((pinned_x * width, pinned_y * height))
    centre = transform.map(QPointF(width / 2, height / 2))
    # the diagonals (80, 0)-(400, 300) and (320, 0)-(0, 300) cross at (200, 112.5)
    assert (centre.x(), centre.y()) == pytest.approx((200.0, 112.5))
    assert pin_transform(CornerPin(), width, height).isIdentity()


# 15 px up-left, up-right, down-left and down-right of where TRAPEZOID's diagonals cross
# on a 200 x 200 canvas, (x, y) = (100, 75); as (row, column)
AROUND_THE_CROSSING = ((60, 85), (60, 115), (90, 85), (90, 115))


def colours(shown: np.ndarray, points) -> list[tuple]:
    """The RGB of `shown` at each (row, column) of `points`."""
    return [tuple(shown[row, column]) for row, column in points]


def pinned_canvas(qtbot, orientation: CanvasOrientation) -> SceneCanvas:
    """A 200 x 200 canvas showing the quadrants over all of it, pinned to TRAPEZOID."""
    canvas = SceneCanvas(FrameStats())
    qtbot.addWidget(canvas)
    canvas.resize(200, 200)
    canvas.show_frame(1, quadrants().repeat(8, axis=0).repeat(8, axis=1), None)  # sharp edges
    canvas.set_orientation(orientation)
    canvas.set_corner_pin(CornerPin(TRAPEZOID))
    return canvas


def test_the_pinned_picture_is_drawn_in_perspective_inside_its_corners(qtbot):
    """The quadrants meet at (100, 75), the diagonals' crossing, not at (100, 100) where
    squeezing the picture without perspective would put them; outside the pin is black."""
    shown = grabbed(pinned_canvas(qtbot, CanvasOrientation()))
    assert colours(shown, AROUND_THE_CROSSING) == [RED, GREEN, BLUE, WHITE]
    assert tuple(shown[85, 85]) == BLUE  # below the crossing: red without perspective
    assert tuple(shown[5, 5]) == BLACK and tuple(shown[5, 194]) == BLACK  # beside the top
    assert tuple(shown[100, 10]) == BLACK  # the left edge runs from (40, 0) to (0, 200)
    assert tuple(shown[100, 30]) == BLUE
    assert tuple(shown[195, 3]) == BLUE and tuple(shown[195, 196]) == WHITE  # the full bottom


def test_the_pin_is_of_the_screen_after_the_turn_and_the_preview_is_not_pinned(qtbot):
    canvas = pinned_canvas(qtbot, CanvasOrientation(180))
    shown = grabbed(canvas)
    assert colours(shown, AROUND_THE_CROSSING) == [WHITE, BLUE, GREEN, RED]
    assert tuple(shown[5, 5]) == BLACK and tuple(shown[195, 3]) == GREEN  # narrow at the top
    preview = CanvasPreview(canvas)
    qtbot.addWidget(preview)
    preview.resize(200, 200)
    shown = grabbed(preview)
    assert colours(shown, ((5, 5), (5, 194), (194, 5), (194, 194))) == [RED, GREEN, BLUE, WHITE]


def mouse(canvas: SceneCanvas, kind: QEvent.Type, x: float, y: float, shift: bool = False) -> None:
    """A real mouse event of `kind` at (x, y) on the canvas, the left button held (and
    Shift with `shift`)."""
    held = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseButtonRelease else None
    point = QPointF(x, y)
    event = QMouseEvent(
        kind,
        point,
        canvas.mapToGlobal(point),
        Qt.MouseButton.LeftButton,
        held or Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.ShiftModifier if shift else Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(canvas, event)


def test_the_mouse_drags_the_nearest_corner_by_as_much_as_it_moves(qtbot):
    canvas = SceneCanvas(FrameStats())
    qtbot.addWidget(canvas)
    canvas.resize(400, 200)
    dragged = []
    canvas.corner_dragged.connect(dragged.append)
    canvas.corner_dragged.connect(canvas.set_corner_pin)
    mouse(canvas, QEvent.Type.MouseButtonPress, 10, 10)
    mouse(canvas, QEvent.Type.MouseMove, 30, 15)
    mouse(canvas, QEvent.Type.MouseButtonRelease, 30, 15)
    assert dragged == []  # not pinning: the mouse moves nothing
    canvas.set_pinning(0)
    assert "corner 1, top left, at 0, 0 px" in canvas.test_card_lines()
    mouse(canvas, QEvent.Type.MouseButtonPress, 390, 195)  # near the bottom right: picked
    assert canvas.pinning == 2 and dragged == []  # a press alone moves nothing
    mouse(canvas, QEvent.Type.MouseMove, 370, 175)
    assert dragged[-1].corners[2] == pytest.approx((0.95, 0.9))
    mouse(canvas, QEvent.Type.MouseMove, -500, -500)  # past the top left: it would fold
    assert canvas.corner_pin.corners[2] == pytest.approx((0.95, 0.9)) and len(dragged) == 1
    mouse(canvas, QEvent.Type.MouseButtonRelease, -500, -500)
    mouse(canvas, QEvent.Type.MouseMove, 0, 0)  # released: moving moves nothing
    assert len(dragged) == 1
    mouse(canvas, QEvent.Type.MouseButtonPress, 380, 180)  # the bottom right again
    mouse(canvas, QEvent.Type.MouseMove, 360, 180)  # 20 px left: 0.05 of the width
    mouse(canvas, QEvent.Type.MouseMove, 360, 180, shift=True)  # Shift: nothing moves...
    assert canvas.corner_pin.corners[2] == pytest.approx((0.9, 0.9))
    mouse(canvas, QEvent.Type.MouseMove, 340, 160, shift=True)  # ...then a tenth as far
    assert canvas.corner_pin.corners[2] == pytest.approx((0.895, 0.89))
    mouse(canvas, QEvent.Type.MouseMove, 340, 160)  # Shift let go: nothing moves...
    mouse(canvas, QEvent.Type.MouseMove, 330, 160)  # ...then as far as the mouse again
    assert canvas.corner_pin.corners[2] == pytest.approx((0.87, 0.89))
    mouse(canvas, QEvent.Type.MouseButtonRelease, 330, 160)
    assert canvas.test_card_lines()[2] == "not turned or mirrored, corners pinned"
    assert canvas.test_card_lines()[3] == "corner 3, bottom right, at 348, 178 px"  # 0.87, 0.89


def test_c_and_the_keys_pick_and_move_the_corners_and_the_pin_is_remembered(
    qtbot, make_window, model_dir
):
    window = make_window(model_dir)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)  # shortcuts need an active window
    mode = window.worker_settings.scene_mode
    width, height = window.canvas.width(), window.canvas.height()
    qtbot.keyClick(window, Qt.Key.Key_Up)  # not pinning: no corner moves
    assert window.canvas.corner_pin == CornerPin()
    qtbot.keyClick(window, Qt.Key.Key_C)
    assert window.pinning and window.canvas.pinning == 0 and window.panel.pinning.isChecked()
    qtbot.keyClick(window, Qt.Key.Key_3)  # picks the bottom right, holds no scene
    assert window.canvas.pinning == 2 and window.worker_settings.scene_mode == mode
    qtbot.keyClick(window, Qt.Key.Key_Left)
    qtbot.keyClick(window, Qt.Key.Key_Left)
    qtbot.keyClick(window, Qt.Key.Key_Up, Qt.KeyboardModifier.ShiftModifier)
    corner = window.canvas.corner_pin.corners[2]
    assert corner == pytest.approx((1 - 2 / width, 1 - 10 / height))
    assert window.settings.canvas_corner_pin == window.canvas.corner_pin
    assert window.panel.corners_label.text().startswith("corners pinned: bottom right")
    qtbot.keyClick(window, Qt.Key.Key_Backspace)
    assert window.canvas.corner_pin == CornerPin()
    qtbot.keyClick(window, Qt.Key.Key_1)
    qtbot.keyClick(window, Qt.Key.Key_Down)
    assert window.canvas.corner_pin.corners[0] == pytest.approx((0.0, 1 / height))
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert not window.pinning and not window.panel.pinning.isChecked()
    qtbot.keyClick(window, Qt.Key.Key_Down)  # done: the arrows are the panel's again
    assert window.canvas.corner_pin.corners[0] == pytest.approx((0.0, 1 / height))
    assert "pin the canvas's corners" in window.help_overlay.text()
    window.close()
    again = make_window(model_dir)
    assert again.canvas.corner_pin.corners[0] == pytest.approx((0.0, 1 / height))
    assert again.panel.corners_label.text() == again.canvas.corner_pin.describe()
    again.panel.corners_reset.click()
    assert again.canvas.corner_pin == CornerPin() == again.settings.canvas_corner_pin


def test_a_stored_pin_survives_the_settings_file_and_a_damaged_one_reads_as_none(tmp_path):
    path = str(tmp_path / "settings.ini")
    pin = CornerPin(TRAPEZOID)
    AppSettings(settings_from_file(path)).canvas_corner_pin = pin
    settings = AppSettings(settings_from_file(path))  # read back from the file
    assert settings.canvas_corner_pin == pin
    for damaged in ("0,0 1,0 0,1 1,1", "garbage", 3):
        settings.store.setValue("vj/canvas_corners", damaged)
        assert settings.canvas_corner_pin == CornerPin()


def test_the_command_line_pins_the_corners_and_refuses_a_folded_pin(
    qtbot, tmp_path, model_dir, capsys
):
    with pytest.raises(SystemExit):
        command_line().parse_args(["--corners", "0,0 1,0 0,1 1,1"])
    assert "argument --corners: those corners fold the picture" in capsys.readouterr().err
    window, settings_file = window_from_command_line(
        qtbot, tmp_path, model_dir, ["--corners", "0.2,0 0.8,0 1,1 0,1"]
    )
    assert window.canvas.corner_pin == CornerPin(TRAPEZOID)
    window.close()
    assert AppSettings(settings_from_file(str(settings_file))).canvas_corner_pin == CornerPin(
        TRAPEZOID
    )


def test_the_corner_address_reads_a_corner_and_where_it_goes():
    assert corner_value((2, 0.9, 0.1), 4) == (1, 0.9, 0.1)
    assert corner_value((0,), 4) is None
    with pytest.raises(ValueError, match=r"expected a corner 1-4 and its x and y 0-1, or 0 "):
        corner_value((5, 0.5, 0.5), 4)
    with pytest.raises(ValueError, match=r"got 1.5, 0.5"):
        corner_value((1, 1.5, 0.5), 4)
    with pytest.raises(ValueError, match=r"got \[1, nan, 0.5\]"):
        corner_value((1, float("nan"), 0.5), 4)
    assert corner_nudge_value((4, -0.01, 0.02), 4, 0.1) == (3, -0.01, 0.02)
    with pytest.raises(ValueError, match=r"how far it moves, x and y -0.1-0.1, got 0.5, 0"):
        corner_nudge_value((4, 0.5, 0), 4, 0.1)
    with pytest.raises(ValueError, match=r"got \['left'\]"):
        corner_nudge_value(("left",), 4, 0.1)
    methods = namespace(("sky",), {})["CONTENTS"]["musicscape"]["CONTENTS"]
    assert methods["corner"]["TYPE"] == "iff"
    assert methods["corner"]["RANGE"][0] == {"MIN": 0, "MAX": 4}
    assert methods["nudge_corner"]["TYPE"] == "iff"
    assert methods["nudge_corner"]["RANGE"][1] == {"MIN": -0.1, "MAX": 0.1}


def test_a_remote_pins_a_corner_and_is_told_why_a_fold_is_refused(qtbot, make_window, model_dir):
    window = make_window(model_dir)
    assert window.stage.serve_http(0)
    requests = ThreadPoolExecutor(max_workers=1)
    ok = (200, {"ok": True})
    assert ask(qtbot, requests, window, "/musicscape/corner", b"[2, 0.9, 0.1]") == ok
    assert window.canvas.corner_pin.corners[1] == (0.9, 0.1)
    assert window.settings.canvas_corner_pin == window.canvas.corner_pin
    status, answer = ask(qtbot, requests, window, "/musicscape/corner", b"[1, 1, 1]")
    assert status == 400 and "fold the picture over itself" in answer["error"]
    assert window.canvas.corner_pin.corners[0] == (0.0, 0.0)  # nothing changed
    status, state = ask(qtbot, requests, window, "/musicscape/state")
    assert state["corners"] == [[0.0, 0.0], [0.9, 0.1], [1.0, 1.0], [0.0, 1.0]]
    assert ask(qtbot, requests, window, "/musicscape/nudge_corner", b"[2, 0.05, -0.1]") == ok
    assert window.canvas.corner_pin.corners[1] == pytest.approx((0.95, 0.0))  # at the top edge
    assert ask(qtbot, requests, window, "/musicscape/nudge_corner", b"[2, -0.1, 0.1]") == ok
    assert window.canvas.corner_pin.corners[1] == pytest.approx((0.85, 0.1))
    assert ask(qtbot, requests, window, "/musicscape/corner", b"[0]") == ok
    assert window.canvas.corner_pin == CornerPin()
    assert ask(qtbot, requests, window, "/musicscape/pinning", b"[3]") == ok  # as C, then 3
    assert window.pinning and window.canvas.pinning == 2 and window.panel.pinning.isChecked()
    status, state = ask(qtbot, requests, window, "/musicscape/state")
    assert state["pinning"] == 3
    status, answer = ask(qtbot, requests, window, "/musicscape/pinning", b"[5]")
    assert (status, answer["error"]) == (
        400,
        "HTTP /musicscape/pinning: expected a corner 1-4 to pick, or 0 (done), got [5]",
    )
    assert ask(qtbot, requests, window, "/musicscape/pinning", b"[0]") == ok
    assert not window.pinning and not window.panel.pinning.isChecked()
    status, state = ask(qtbot, requests, window, "/musicscape/state")
    assert state["pinning"] is None
    requests.shutdown()
