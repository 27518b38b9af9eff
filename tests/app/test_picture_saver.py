"""Saving the picture the canvas shows (P, the panel's button, OSC, MIDI): real PNG files
written off the GUI thread, read back pixel for pixel."""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime

import numpy as np
from PIL import Image
from PyQt6.QtCore import Qt

from visualizer.app.picture_saver import PICTURE_SIZE, PictureSaver, picture_path

from .conftest import canvas_alone_on_a_window

TIMEOUT_MS = 15_000
NAME = re.compile(r"musicscape-\d{8}-\d{6}-\d{3}(-\d+)?\.png")


def _collect(saver: PictureSaver) -> list[tuple[str, str]]:
    results: list[tuple[str, str]] = []
    saver.saved.connect(lambda path, error: results.append((path, error)))
    return results


def _read(path) -> np.ndarray:
    with Image.open(path) as image:
        assert image.mode == "RGB"
        return np.asarray(image)


def test_saved_pictures_read_back_exactly_under_names_that_never_collide(qtbot, tmp_path):
    saver = PictureSaver()
    results = _collect(saver)
    rng = np.random.default_rng(0)
    pictures = [rng.integers(0, 256, (48, 64, 3), dtype=np.uint8) for _ in range(3)]
    paths = [saver.save(pixels, tmp_path) for pixels in pictures]
    qtbot.waitUntil(lambda: len(results) == 3, timeout=TIMEOUT_MS)
    assert sorted(results) == sorted((str(path), "") for path in paths)
    assert len(set(paths)) == 3
    for path, pixels in zip(paths, pictures, strict=True):
        assert NAME.fullmatch(path.name), path.name
        np.testing.assert_array_equal(_read(path), pixels)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths)


def test_a_folder_that_cannot_be_written_is_named_and_leaves_nothing(qtbot, tmp_path):
    saver = PictureSaver()
    results = _collect(saver)
    missing = tmp_path / "gone"
    path = saver.save(np.zeros((8, 8, 3), np.uint8), missing)
    qtbot.waitUntil(lambda: len(results) == 1, timeout=TIMEOUT_MS)
    assert results == [(str(path), f"{path}: No such file or directory")]
    assert list(tmp_path.iterdir()) == []


def test_a_picture_name_taken_or_on_disk_gets_the_next_number(tmp_path):
    when = datetime(2026, 12, 2, 6, 15, 0, 42_999)
    first = picture_path(tmp_path, when, set())
    assert first.name == "musicscape-20261202-061500-042.png"
    assert picture_path(tmp_path, when, {first}).name == "musicscape-20261202-061500-042-2.png"
    (tmp_path / "musicscape-20261202-061500-042-2.png").touch()
    assert picture_path(tmp_path, when, {first}).name == "musicscape-20261202-061500-042-3.png"


def test_only_uint8_rgb_pictures_are_taken(tmp_path):
    saver = PictureSaver()
    for bad in (np.zeros((8, 8, 3), np.float32), np.zeros((8, 8), np.uint8)):
        try:
            saver.save(bad, tmp_path)
        except ValueError as error:
            assert "expected uint8 RGB [H, W, 3]" in str(error)
        else:
            raise AssertionError(f"{bad.dtype} {bad.shape} was taken")


def test_the_window_saves_what_the_canvas_shows_enlarged(
    qtbot, make_window, model_dir, beats_file, tmp_path
):
    window = make_window(model_dir)
    stage = window.stage
    stage.save_picture()
    assert stage.picture_label.text() == "No picture yet: nothing has been shown"
    stage.record_dir = tmp_path
    window.play_file(beats_file)
    qtbot.waitUntil(lambda: window.canvas.frames_painted > 10, timeout=TIMEOUT_MS)
    results = _collect(stage.picture_saver)
    # A known frame through the window's own path to the canvas, then P at once: that
    # frame is saved, enlarged from the generator's picture to PICTURE_SIZE (these test
    # models have no upscaler.onnx: a bicubic resize, which keeps one colour exactly).
    side = stage.latest_packet.picture.shape[1]
    colour = np.array([-0.6, 0.2, 1.0], np.float32)  # levels 51, 153, 255
    picture = np.ascontiguousarray(np.broadcast_to(colour[:, None, None], (3, side, side)))
    shown = np.empty_like(stage.latest_packet.image)
    shown[:] = (51, 153, 255)

    def show_known_frame() -> None:
        packet = dataclasses.replace(stage.latest_packet, image=shown, picture=picture)
        window.canvas.show_frame(packet.sequence, stage.frame(packet), None)

    show_known_frame()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    show_known_frame()
    qtbot.keyClick(window, Qt.Key.Key_P)
    qtbot.waitUntil(lambda: len(results) == 1, timeout=TIMEOUT_MS)
    path, error = results[0]
    assert error == "" and stage.picture_label.text() == f"Saved {path.rsplit('/', 1)[1]}"
    saved = _read(path)
    assert saved.shape == (PICTURE_SIZE, PICTURE_SIZE, 3)
    assert (saved.reshape(-1, 3) == (51, 153, 255)).all()
    # At half the master level, half as bright (the canvas too).
    stage.perform("master", (0.5,))
    show_known_frame()
    assert (window.canvas.current_pixels().reshape(-1, 3) == (26, 77, 128)).all()
    stage.picture_button.click()
    qtbot.waitUntil(lambda: len(results) == 2, timeout=TIMEOUT_MS)
    assert (_read(results[1][0]).reshape(-1, 3) == (26, 77, 128)).all()
    # During a blackout the canvas is black, and so is the saved picture.
    stage.perform("blackout", (1,))
    painted = window.canvas.frames_painted
    qtbot.waitUntil(lambda: window.canvas.frames_painted > painted + 2, timeout=TIMEOUT_MS)
    stage.picture_button.click()
    qtbot.waitUntil(lambda: len(results) == 3, timeout=TIMEOUT_MS)
    black = _read(results[2][0])
    assert black.shape == saved.shape and not black.any()


def test_a_bad_upscaler_still_gives_a_picture_and_a_new_folder_is_loaded(tmp_path, qapp):
    from visualizer.app.picture_saver import PictureEnlarger
    from visualizer.app.qt_resize import smooth_resize_rgb8
    from visualizer.bundled import assets_dir
    from visualizer.upscale import bicubic_resize, load_upscaler, to_rgb8

    (tmp_path / "upscaler.onnx").write_bytes(b"not a model")
    picture = np.random.default_rng(3).uniform(-1, 1, (3, 32, 32)).astype(np.float32)
    enlarger = PictureEnlarger()
    resized = enlarger.enlarge(picture, tmp_path, 256)
    np.testing.assert_array_equal(resized, bicubic_resize(to_rgb8(picture), 256))
    bundled = assets_dir() / "models"
    learned = enlarger.enlarge(picture, bundled, 256)  # another folder: its own upscaler
    upscaler = load_upscaler(bundled, final_resize=smooth_resize_rgb8)
    assert upscaler.learned
    np.testing.assert_array_equal(learned, upscaler.upscale(picture, 256))
    assert np.abs(learned.astype(int) - resized.astype(int)).mean() > 1  # not the resize


def test_a_picture_the_upscaler_cannot_take_is_named_and_leaves_nothing(qtbot, tmp_path):
    from visualizer.bundled import assets_dir

    saver = PictureSaver()
    results = _collect(saver)
    empty = np.zeros((3, 0, 0), np.float32)  # no pixels: the learned upscaler refuses it
    path = saver.save_enlarged(empty, assets_dir() / "models", 1.0, tmp_path)
    qtbot.waitUntil(lambda: len(results) == 1, timeout=TIMEOUT_MS)
    assert results[0][0] == str(path)
    assert results[0][1].startswith(f"{path}: the picture could not be made (")
    assert list(tmp_path.iterdir()) == []


def test_a_canvas_that_fills_a_wide_screen_saves_the_middle_it_shows(
    qtbot, make_window, model_dir, beats_file, tmp_path
):
    """The canvas alone on a 16:9 window with Fill: P saves 1820 x 1024, the middle of the
    picture enlarged to 1820 (these test models have no upscaler: a bicubic resize), as
    the canvas shows it; without Fill, the whole picture, square."""
    from visualizer.resize import centre_crop
    from visualizer.upscale import bicubic_resize, to_rgb8

    window = make_window(model_dir)
    window.show()
    stage = window.stage
    stage.record_dir = tmp_path
    canvas_alone_on_a_window(qtbot, window, 640, 360)
    window.set_fill(True)
    window.play_file(beats_file)
    qtbot.waitUntil(lambda: window.canvas.frames_painted > 10, timeout=TIMEOUT_MS)
    assert stage.set_freeze(True)  # the picture P takes is the one compared below
    results = _collect(stage.picture_saver)
    path = stage.save_picture()
    assert stage.picture_label.text() == f"saving {path.name} (1820×1024)"
    qtbot.waitUntil(lambda: len(results) == 1, timeout=TIMEOUT_MS)
    assert results[0] == (str(path), "")
    expected = centre_crop(bicubic_resize(to_rgb8(stage.shown_packet.picture), 1820), 1820 / 1024)
    np.testing.assert_array_equal(_read(path), expected)
    window.set_fill(False)
    square = stage.save_picture()
    qtbot.waitUntil(lambda: len(results) == 2, timeout=TIMEOUT_MS)
    assert _read(square).shape == (PICTURE_SIZE, PICTURE_SIZE, 3)


def test_the_enlarger_makes_the_middle_at_a_shape(tmp_path, qapp):
    from visualizer.app.picture_saver import PictureEnlarger
    from visualizer.app.qt_resize import smooth_resize_rgb8
    from visualizer.bundled import assets_dir
    from visualizer.resize import centre_crop
    from visualizer.upscale import load_upscaler

    picture = np.random.default_rng(4).uniform(-1, 1, (3, 32, 32)).astype(np.float32)
    bundled = assets_dir() / "models"
    upscaler = load_upscaler(bundled, final_resize=smooth_resize_rgb8)
    wide = PictureEnlarger().enlarge(picture, bundled, 256, aspect=16 / 9)
    assert wide.shape == (256, 456, 3) and wide.flags.c_contiguous
    np.testing.assert_array_equal(wide, centre_crop(upscaler.upscale(picture, 456), 456 / 256))
    tall = PictureEnlarger().enlarge(picture, bundled, 256, aspect=9 / 16)
    assert tall.shape == (456, 256, 3)
