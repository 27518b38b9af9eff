"""The test card: a white edge on every side, a grid of one-pixel lines, colour patches of
exact colours, the canvas's size in its text, a sound check (a beat disc, a level meter);
G, the Canvas box, the remote page's button and OSC show it in place of the scene, and a
new start never does."""

from __future__ import annotations

from PyQt6.QtCore import Qt

from visualizer.app.frame_stats import FrameStats
from visualizer.app.scene_canvas import SceneCanvas
from visualizer.app.test_card import (
    GRID_GREY,
    PATCH_COLOURS,
    beat_disc,
    edge_width,
    meter_rect,
    meter_share,
    patch_rects,
)

from .test_canvas_orientation import grabbed, quadrants


def test_the_card_s_edges_grid_and_patches_are_exact(qtbot):
    canvas = SceneCanvas(FrameStats())
    qtbot.addWidget(canvas)
    canvas.resize(360, 240)
    canvas.show_frame(1, quadrants(), None)
    canvas.set_test_card(True)
    card = grabbed(canvas)
    white, black = (255, 255, 255), (0, 0, 0)
    assert edge_width(360, 240) == 1 and edge_width(1920, 1080) == 3
    for y, x in ((0, 100), (239, 100), (200, 0), (200, 359)):  # each edge, its outer pixel
        assert tuple(card[y, x]) == white, (x, y)
    assert tuple(card[200, 1]) == black  # one pixel in: the edge is one pixel wide
    grey = (GRID_GREY,) * 3
    assert tuple(card[200, 210]) == grey  # the grid line 30 px (240 / 8) right of the middle
    assert tuple(card[200, 211]) == black and tuple(card[200, 209]) == black
    assert tuple(card[210, 195]) == grey  # the grid row 90 px below the middle
    for rect, colour in zip(patch_rects(360, 240), PATCH_COLOURS, strict=True):
        centre = rect.center()
        assert tuple(card[round(centre.y()), round(centre.x())]) == colour
    assert canvas.test_card_lines()[:3] == [
        "musicscape test card",
        "360 x 240 px",
        "not turned or mirrored",
    ]
    canvas.set_test_card(False)
    assert tuple(grabbed(canvas)[60, 150]) == (255, 0, 0)  # the scene again


def test_the_sound_check_lights_the_disc_with_the_beat_and_fills_the_meter_to_the_level(qtbot):
    assert [meter_share(db) for db in (-90.0, -60.0, -30.0, 0.0, 3.0)] == [0, 0, 0.5, 1, 1]
    canvas = SceneCanvas(FrameStats())
    qtbot.addWidget(canvas)
    canvas.resize(720, 480)
    canvas.set_test_card(True)
    centre, _ = beat_disc(720, 480)
    meter = meter_rect(720, 480)
    row = round(meter.center().y())
    quarter, three_quarters = (round(meter.left() + meter.width() * f) for f in (0.25, 0.75))
    canvas.set_sound(1.0, -30.0, 124.0)
    card = grabbed(canvas)
    assert tuple(card[round(centre.y()), round(centre.x())]) == (255, 255, 255)
    assert tuple(card[row, quarter]) == (255, 255, 255)  # the level fills half the meter
    assert tuple(card[row, three_quarters]) == (GRID_GREY // 2,) * 3
    assert canvas.test_card_lines()[3] == "sound: -30 dBFS, 124 BPM"
    canvas.set_sound(0.0, -120.0, None)
    card = grabbed(canvas)
    assert tuple(card[round(centre.y()), round(centre.x())]) == (0, 0, 0)
    assert tuple(card[row, quarter]) == (GRID_GREY // 2,) * 3
    assert canvas.test_card_lines()[3] == "sound: silent"


def test_the_window_s_card_beats_with_the_music(qtbot, make_window, model_dir, beats_file):
    window = make_window(model_dir)
    assert window.play_file(beats_file)  # a burst every 0.5 s
    window.set_test_card(True)
    canvas = window.canvas
    seen = {"lit": False, "dark": False}

    def lit_and_dark() -> bool:
        centre, _ = beat_disc(canvas.width(), canvas.height())
        light = int(grabbed(canvas)[round(centre.y()), round(centre.x())][0])
        seen["lit"] |= light > 200  # on a burst
        seen["dark"] |= light < 60  # between them
        return all(seen.values()) and "dBFS" in canvas.test_card_lines()[3]

    qtbot.waitUntil(lit_and_dark, timeout=10_000)


def test_g_the_box_and_the_remotes_show_it_and_a_new_start_does_not(qtbot, make_window, model_dir):
    window = make_window(model_dir)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)  # shortcuts need an active window
    qtbot.keyClick(window, Qt.Key.Key_G)
    assert window.canvas.test_card and window.panel.test_card.isChecked()
    assert window.stage.state()["test_card"] is True
    assert window.stage.control_values()["test_card"] == 1.0
    window.panel.test_card.click()  # the Canvas box's button
    assert not window.canvas.test_card
    assert window.stage.attempt("test_card") is None  # OSC or HTTP with no argument: toggles
    assert window.canvas.test_card
    card = grabbed(window.canvas)
    assert tuple(card[0, card.shape[1] // 2]) == (255, 255, 255)  # the card's top edge
    assert "the test card" in window.help_overlay.text()
    window.close()
    assert not make_window(model_dir).canvas.test_card
