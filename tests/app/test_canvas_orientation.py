"""The canvas turned and mirrored for its screen: each of the eight orientations puts the
picture's quadrants where turning and mirroring put them, the title card and the test card
turn with it, the layout (bars, fill) follows the turned area; M, the Canvas box, the
command line and the remotes set it, and it is remembered."""

from __future__ import annotations

import argparse
import time

import numpy as np
import pytest
from PyQt6.QtCore import QRectF, Qt

from visualizer.app import _show_window, add_arguments
from visualizer.app.app_settings import AppSettings, settings_from_file
from visualizer.app.canvas_orientation import ROTATIONS, CanvasOrientation
from visualizer.app.frame_stats import FrameStats
from visualizer.app.scene_canvas import CanvasPreview, SceneCanvas
from visualizer.app.show_log import ShowLog

from .qimage_pixels import rgb_pixels

RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)
ORIENTATIONS = [CanvasOrientation(turn, mirrored) for turn in ROTATIONS for mirrored in (0, 1)]


def quadrants() -> np.ndarray:
    """8x8 RGB: red, green over blue, white."""
    pixels = np.zeros((8, 8, 3), np.uint8)
    pixels[:4, :4], pixels[:4, 4:], pixels[4:, :4], pixels[4:, 4:] = RED, GREEN, BLUE, WHITE
    return pixels


def grabbed(canvas: SceneCanvas) -> np.ndarray:
    """The canvas as painted, RGB [height, width, 3]."""
    return rgb_pixels(canvas.grab().toImage())


def turned(pixels: np.ndarray, orientation: CanvasOrientation) -> np.ndarray:
    """What the orientation should make of `pixels`, by numpy: clockwise, then mirrored."""
    pixels = np.rot90(pixels, k=-orientation.rotation // 90)
    return pixels[:, ::-1] if orientation.mirrored else pixels


@pytest.mark.parametrize("orientation", ORIENTATIONS, ids=lambda o: o.describe())
def test_each_orientation_puts_the_quadrants_where_turning_and_mirroring_put_them(
    qtbot, orientation
):
    canvas = SceneCanvas(FrameStats())
    qtbot.addWidget(canvas)
    canvas.resize(200, 200)
    canvas.show_frame(1, quadrants(), None)
    canvas.set_orientation(orientation)
    expected = turned(np.array([[RED, GREEN], [BLUE, WHITE]]), orientation)
    shown = grabbed(canvas)
    for row, y in enumerate((50, 150)):
        for column, x in enumerate((50, 150)):
            assert tuple(shown[y, x]) == tuple(expected[row, column]), (x, y)


@pytest.mark.parametrize("card", [False, True], ids=["scene and title", "test card"])
def test_the_turned_canvas_is_the_unturned_canvas_of_the_turned_size_turned(qtbot, card):
    """Everything painted turns with the picture: the scene, its bars, the title card (so a
    rear-projected title reads the right way round) and the test card."""
    canvases = {}
    for orientation in ORIENTATIONS:
        canvas = SceneCanvas(FrameStats())
        qtbot.addWidget(canvas)
        canvas.resize(*((240, 360) if orientation.turned else (360, 240)))
        canvas.set_orientation(orientation)
        canvas.show_frame(1, quadrants(), None)
        canvas.show_title("Dune Sea", "Someone")
        canvas.set_test_card(card)
        canvases[orientation] = canvas
    time.sleep(1.0)  # every title card faded in whole (0.5 s) and not yet out (5 s)
    unturned = grabbed(canvases[CanvasOrientation()]).astype(int)
    kept = np.ones(unturned.shape, bool)
    label = np.zeros(unturned.shape[:2], bool)
    if card:  # text is drawn turned, not turned after drawing: its pixels differ a little
        kept[20:120] = False  # the middle lines, which also name the size and orientation
        label[4:30, 4:100] = True  # "top left", which must land in the turned corner
        kept[label] = False
    for orientation, canvas in canvases.items():
        shown, expected = grabbed(canvas).astype(int), turned(unturned, orientation)
        difference = np.abs(shown - expected)[turned(kept, orientation)]
        assert difference.mean() < 0.5 and np.percentile(difference, 99.9) <= 8, orientation
        if card:
            bright = shown.min(axis=2) > 150
            assert bright[turned(label, orientation)].sum() > 20, orientation
            assert bright[turned(label[::-1, ::-1], orientation)].sum() == 0, orientation


def test_a_quarter_turn_lays_the_picture_out_in_the_turned_area(qtbot):
    canvas = SceneCanvas(FrameStats())
    qtbot.addWidget(canvas)
    canvas.resize(400, 200)
    canvas.show_frame(1, quadrants(), None)
    canvas.set_orientation(CanvasOrientation(90))
    assert canvas.picture_area() == QRectF(0, 0, 200, 400)
    assert canvas.target_rect() == QRectF(0, 100, 200, 200)  # bars above and below it...
    shown = grabbed(canvas)
    assert tuple(shown[100, 50]) == (0, 0, 0)  # ...which on the screen are left and right
    assert tuple(shown[100, 350]) == (0, 0, 0)
    assert tuple(shown[50, 150]) == BLUE  # the picture's bottom left, turned to the top left
    assert canvas.shown_aspect() == 1.0  # the whole picture
    canvas.set_fill(True)
    assert canvas.target_rect() == QRectF(-100, 0, 400, 400)
    assert (grabbed(canvas).reshape(-1, 3).sum(axis=1) > 0).all()  # no bar anywhere
    assert canvas.shown_aspect() == 0.5  # upright, the picture is shown half as wide as high


def test_the_preview_shows_the_canvas_upright_and_counts_no_frame(qtbot):
    """The main window's preview of a canvas alone on another screen shows what the
    audience sees: the picture upright, however the canvas turns it for its projector."""
    canvas = SceneCanvas(FrameStats())
    qtbot.addWidget(canvas)
    canvas.resize(240, 360)
    canvas.set_orientation(CanvasOrientation(90, True))
    canvas.show_frame(1, quadrants(), None)
    preview = CanvasPreview(canvas)
    qtbot.addWidget(preview)
    preview.resize(200, 200)
    shown = grabbed(preview)
    assert [tuple(shown[y, x]) for y, x in ((50, 50), (50, 150), (150, 50), (150, 150))] == [
        RED,
        GREEN,
        BLUE,
        WHITE,
    ]
    assert canvas.frames_painted == 0 and len(canvas.stats.display_times) == 0
    canvas.set_test_card(True)
    assert tuple(grabbed(preview)[0, 100]) == WHITE  # the card's top edge, at the top
    assert canvas.frames_painted == 0


def test_the_canvas_and_its_preview_each_keep_their_title_card(qtbot):
    """Both paint the title every frame at their own sizes: each size's card is drawn once,
    not again at every other paint."""
    canvas = SceneCanvas(FrameStats())
    qtbot.addWidget(canvas)
    canvas.resize(400, 300)
    canvas.show_frame(1, quadrants(), None)
    canvas.show_title("Dune Sea", "Someone")
    preview = CanvasPreview(canvas)
    qtbot.addWidget(preview)
    preview.resize(200, 150)
    canvas.grab(), preview.grab()
    cards = dict(canvas._card_cache)
    canvas.grab(), preview.grab()
    assert len(cards) == 2
    assert all(canvas._card_cache[key] is card for key, card in cards.items())


def test_a_stored_rotation_that_is_not_a_quarter_turn_reads_as_none(tmp_path):
    store = settings_from_file(str(tmp_path / "settings.ini"))
    settings = AppSettings(store)
    settings.canvas_orientation = CanvasOrientation(270, True)
    assert settings.canvas_orientation == CanvasOrientation(270, True)
    store.setValue("vj/canvas_rotation", 45)
    assert settings.canvas_orientation == CanvasOrientation(0, True)
    store.setValue("vj/canvas_rotation", "sideways")
    assert settings.canvas_orientation == CanvasOrientation(0, True)
    with pytest.raises(ValueError, match="rotation 45 is not one of 0, 90, 180, 270"):
        CanvasOrientation(45)
    assert CanvasOrientation(90, True).describe() == "turned 90°, mirrored"
    assert CanvasOrientation().describe() == "not turned or mirrored"


def test_m_the_canvas_box_and_the_remotes_turn_it_and_it_is_remembered(
    qtbot, make_window, model_dir
):
    window = make_window(model_dir)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)  # shortcuts need an active window
    qtbot.keyClick(window, Qt.Key.Key_M)
    assert window.canvas.orientation == CanvasOrientation(0, True)
    assert window.panel.mirrored.isChecked()
    window.panel.rotation.setCurrentIndex(ROTATIONS.index(270))  # as the performer picks it
    assert window.canvas.orientation == CanvasOrientation(270, True)
    assert window.settings.canvas_orientation == CanvasOrientation(270, True)
    window.panel.fill.setChecked(True)
    assert window.canvas.fill and window.settings.canvas_fill
    assert window.stage.attempt("mirror", (0,)) is None  # OSC /musicscape/mirror 0
    assert window.canvas.orientation == CanvasOrientation(270, False)
    assert not window.panel.mirrored.isChecked()
    assert window.stage.state()["mirror"] is False
    assert window.stage.control_values()["mirror"] == 0.0
    assert "mirror the canvas" in window.help_overlay.text()
    assert window.stage.attempt("fill", ()) is None  # OSC /musicscape/fill: toggles it
    assert not window.canvas.fill and not window.panel.fill.isChecked()
    assert window.stage.state()["fill"] is False and window.stage.control_values()["fill"] == 0.0
    assert window.stage.attempt("fill", (1,)) is None
    assert window.canvas.fill and window.stage.control_values()["fill"] == 1.0
    window.close()
    again = make_window(model_dir)
    assert again.canvas.orientation == CanvasOrientation(270, False)
    assert again.panel.rotation.currentText() == "270° clockwise"
    assert again.canvas.fill and again.panel.fill.isChecked()


def command_line() -> argparse.ArgumentParser:
    """The app's own argument parser."""
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser


def window_from_command_line(qtbot, tmp_path, model_dir, options: list[str]):
    """The window the app shows for `options` (silent, on the test's models, with a settings
    file of its own), and that settings file's path."""
    settings_file = tmp_path / "settings.ini"
    args = command_line().parse_args(
        [*options, "--silent", "--models", str(model_dir), "--settings", str(settings_file)]
    )
    window = _show_window(args, ShowLog(tmp_path / "show.log"), None, None, None)
    qtbot.addWidget(window)
    return window, settings_file


def test_the_command_line_turns_and_mirrors_and_refuses_other_angles(
    qtbot, tmp_path, model_dir, capsys
):
    with pytest.raises(SystemExit):
        command_line().parse_args(["--rotate", "45"])
    assert "invalid choice: 45 (choose from 0, 90, 180, 270)" in capsys.readouterr().err
    window, settings_file = window_from_command_line(
        qtbot, tmp_path, model_dir, ["--rotate", "180", "--mirror", "--test-card"]
    )
    assert window.canvas.orientation == CanvasOrientation(180, True)
    assert window.canvas.test_card and window.panel.test_card.isChecked()
    window.close()
    remembered = AppSettings(settings_from_file(str(settings_file)))
    assert remembered.canvas_orientation == CanvasOrientation(180, True)
