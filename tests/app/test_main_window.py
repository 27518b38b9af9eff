"""The real main window, headless (offscreen Qt), with real models, files and worker threads.

Files play through the clocked null output here (no output device); the PulseAudio tests
play through a real one.
"""

from __future__ import annotations

import re
import shutil
import threading

import numpy as np
import pytest
from PyQt6.QtCore import QMimeData, QPoint, QPointF, Qt, QTimer, QUrl
from PyQt6.QtGui import QDropEvent, QGuiApplication

from visualizer.app.app_settings import SOURCE_INPUT
from visualizer.app.frame_worker import WorkerSettings
from visualizer.app.main_window import SCREEN_FAULT, screen_name
from visualizer.app.playlist import Playlist
from visualizer.app.scene_director import AUTO, BIAS, HOLD, SceneMode
from visualizer.model_files import ENCODER_FILE, GENERATOR_FILE

from .conftest import write_ogg
from .onnx_models import build_encoder, build_generator, build_model_dir, small_metadata

FRAME_TIMEOUT_MS = 10_000


def wait_for_frames(qtbot, window, count: int) -> None:
    start = window.canvas.frames_painted
    qtbot.waitUntil(lambda: window.canvas.frames_painted >= start + count, timeout=FRAME_TIMEOUT_MS)


def test_file_playback_paints_scene_spectrogram_and_bars(qtbot, make_window, model_dir, beats_file):
    window = make_window(model_dir)
    assert window.play_file(beats_file)
    assert window.panel.source_label.text() == "file: beats.ogg"
    assert window.panel.provider_label.text() == "CPU"
    wait_for_frames(qtbot, window, 60)
    qtbot.waitUntil(lambda: window.worker.encoder_runs >= 2, timeout=FRAME_TIMEOUT_MS)
    wait_for_frames(qtbot, window, 5)
    first = window.canvas.current_pixels().copy()
    wait_for_frames(qtbot, window, 30)
    assert np.abs(window.canvas.current_pixels().astype(int) - first).mean() > 0.5  # moving
    # The spectrogram's loudest row is the chord's 440 Hz tone.
    shown = window.spectrogram.shown()
    layout = window.spectrogram.layout_
    assert shown.dtype == np.uint8 and shown.shape == (256, layout.columns)
    assert int(np.argmax(np.median(shown[:, -40:], axis=1))) == layout.row_of_hz(440.0)
    # The bars show a probability distribution from the encoder.
    values = [bar.value() for bar in window.panel.bars]
    assert abs(sum(values) - 1000) <= len(values) and max(values) > 250
    assert "source" not in window.faults and "models" not in window.faults
    # The feel the picture is graded by, in words and numbers, from the worker's frames.
    feel = re.fullmatch(
        r"(calm|moderate|energetic), (dark|neutral|bright) "
        r"\(arousal ([+-]\d\.\d\d), valence ([+-]\d\.\d\d)\)",
        window.panel.feel_label.text(),
    )
    assert feel is not None and (feel[3], feel[4]) != ("+0.36", "+0.00")  # moved off the start
    # A file plays at its own level (its chord about -13 dBFS), auto level or not.
    assert window.settings.auto_level and window.worker.settings.auto_level is False
    assert re.fullmatch(r"-1[0-6] dBFS", window.panel.level_label.text())
    # Playing position advances; pause holds it; seek moves it.
    qtbot.waitUntil(lambda: window.source.position_seconds > 1.0, timeout=FRAME_TIMEOUT_MS)
    window.toggle_pause()
    held = window.source.position_seconds
    qtbot.wait(300)
    assert window.source.position_seconds == held
    window.toggle_pause()
    window.seek(20.0)
    qtbot.waitUntil(lambda: 20.0 <= window.source.position_seconds < 25.0, timeout=3000)
    summary = window.stats.summary()
    assert summary["latency_ms_p50"] is not None  # beats were carried to the screen


def test_scene_memory_is_the_models_unless_the_user_sets_one(qtbot, make_window, tmp_path):
    import dataclasses

    metadata = dataclasses.replace(small_metadata(), scene_memory_seconds=12.0)
    models = build_model_dir(tmp_path / "models", metadata=metadata)
    assert make_window(models).worker.settings.scene_memory_seconds == 12.0
    chosen = WorkerSettings(scene_memory_seconds=0.0)
    assert make_window(models, worker_settings=chosen).worker.settings.scene_memory_seconds == 0.0


def test_scene_memory_control_applies_at_once_and_persists(qtbot, make_window, tmp_path, settings):
    import dataclasses

    metadata = dataclasses.replace(small_metadata(), scene_memory_seconds=12.0)
    models = build_model_dir(tmp_path / "models", metadata=metadata)
    window = make_window(models)
    assert window.panel.scene_memory.value() == 12  # the model's, shown
    assert settings.scene_memory_seconds is None  # showing it chose nothing
    window.panel.scene_memory.setValue(30)
    qtbot.waitUntil(lambda: window.worker.settings.scene_memory_seconds == 30.0, timeout=2000)
    assert settings.scene_memory_seconds == 30.0
    window.set_scene_memory(500.0)  # beyond the control's range: the longest it offers
    qtbot.waitUntil(lambda: window.worker.settings.scene_memory_seconds == 120.0, timeout=2000)
    assert window.panel.scene_memory.value() == 120
    later = make_window(models)  # the user's choice outlives the window and beats the model's
    assert later.worker.settings.scene_memory_seconds == 120.0
    assert later.panel.scene_memory.value() == 120
    for stored in ("-5", "nan", "lots"):  # a hand-edited settings file: the model's value
        settings.store.setValue("scene/memory_seconds", stored)
        assert settings.scene_memory_seconds is None
        assert make_window(models).worker.settings.scene_memory_seconds == 12.0


def test_first_run_plays_the_demo_clip(qtbot, make_window, model_dir, tmp_path, beats_file):
    demo = tmp_path / "demo_clips"
    demo.mkdir()
    shutil.copy(beats_file, demo / "demo.ogg")
    window = make_window(model_dir, demo_dir=demo)
    assert window.panel.source_label.text() == "file: demo.ogg"
    assert window.source.loop
    wait_for_frames(qtbot, window, 10)


def test_unreadable_file_is_reported_and_playback_continues(
    qtbot, make_window, model_dir, beats_file, tmp_path, settings
):
    window = make_window(model_dir)
    window.play_file(beats_file)
    broken = tmp_path / "broken.ogg"
    broken.write_bytes(b"OggS" + bytes(range(256)) * 4)
    assert not window.play_file(broken)
    assert window.faults["source"].startswith(f"Cannot play that file: {broken}: looks like Ogg")
    assert settings.file_path == str(beats_file)  # the working choice is kept
    assert window.panel.source_label.text() == "file: beats.ogg"
    wait_for_frames(qtbot, window, 20)


def _bad_model_dir(tmp_path, problem: str):
    metadata = small_metadata()
    tmp_path.mkdir()
    build_encoder(
        tmp_path / ENCODER_FILE,
        metadata,
        input_shape=((2, 512, 689) if problem == "shape" else None),
        with_metadata=problem != "metadata",
    )
    build_generator(tmp_path / GENERATOR_FILE, metadata)
    if problem == "corrupt":
        (tmp_path / GENERATOR_FILE).write_bytes(b"\x00garbage" * 50)
    if problem == "missing":
        (tmp_path / GENERATOR_FILE).unlink()
    return tmp_path


@pytest.mark.parametrize(
    ("problem", "message"),
    [
        (
            "shape",
            "No picture: music_encoder.onnx expects window [*, 2, 512, 689] but its "
            "contract says window [2, 1024, 689]",
        ),
        ("metadata", "No picture: music_encoder.onnx: not a musicscape model"),
        ("corrupt", "No picture: generator.onnx: not a readable ONNX model"),
        ("missing", "No picture: generator.onnx: missing from"),
    ],
)
def test_bad_models_are_reported_and_the_window_recovers_on_reload(
    qtbot, make_window, tmp_path, beats_file, model_dir, problem, message
):
    directory = _bad_model_dir(tmp_path / "models", problem)
    window = make_window(directory)
    window.play_file(beats_file)
    assert window.faults["models"].startswith(message)
    assert window.panel.fault_label.isVisibleTo(window)
    assert window.worker is None
    qtbot.wait(300)  # the event loop keeps running: the window stays usable
    window.set_reactivity(1.5)
    assert window.settings.reactivity == 1.5
    for name in (ENCODER_FILE, GENERATOR_FILE):
        shutil.copy(model_dir / name, directory / name)
    qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: "models" not in window.faults, timeout=FRAME_TIMEOUT_MS)
    wait_for_frames(qtbot, window, 10)
    assert window.worker.settings.reactivity == 1.5


def test_reload_runs_off_the_gui_thread_and_a_bad_reload_keeps_the_running_models(
    qtbot, make_window, tmp_path, beats_file, model_dir
):
    directory = tmp_path / "models"
    shutil.copytree(model_dir, directory)
    window = make_window(directory)
    window.play_file(beats_file)
    wait_for_frames(qtbot, window, 5)
    first_runtime, first_worker = window.runtime, window.worker
    with qtbot.waitSignal(window.model_loader.loaded, timeout=FRAME_TIMEOUT_MS):
        assert window.reload_models()
        assert window.runtime is first_runtime  # nothing swapped until the load finishes
        assert not window.reload_models()  # one reload at a time
    assert window.runtime is not first_runtime and window.worker is not first_worker
    wait_for_frames(qtbot, window, 5)

    second_runtime, second_worker = window.runtime, window.worker
    (directory / GENERATOR_FILE).write_bytes(b"\x00garbage" * 50)
    with qtbot.waitSignal(window.model_loader.failed, timeout=FRAME_TIMEOUT_MS):
        assert window.reload_models()
    assert window.faults["models"].startswith(
        "Reload failed, still showing the previous models: generator.onnx: not a readable"
    )
    assert window.runtime is second_runtime and window.worker is second_worker
    wait_for_frames(qtbot, window, 10)  # the previous models keep painting


def test_settings_persist_across_windows(qtbot, make_window, model_dir, settings):
    window = make_window(model_dir)
    window.set_reactivity(2.0)
    window.set_scene(HOLD, 1)
    window.panel.av_offset.setValue(120.0)
    window.panel.log_frequency.setChecked(False)
    window.panel.colormap.setCurrentText("viridis")
    window.close()
    again = make_window(model_dir)
    assert again.panel.reactivity.value() == 200
    assert again.worker.settings.reactivity == 2.0
    assert again.worker.settings.scene_mode == SceneMode(HOLD, 1)
    assert again.panel.mode_box.currentText() == "hold water"
    assert again.panel.av_offset.value() == 120.0
    assert again.worker_settings.av_offset_ms == 120.0
    assert not again.panel.log_frequency.isChecked()
    assert not again.worker.settings.log_frequency
    assert again.panel.colormap.currentText() == "viridis"


def test_keyboard_shortcuts(qtbot, make_window, model_dir):
    window = make_window(model_dir)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)  # shortcuts need an active window
    qtbot.keyClick(window, Qt.Key.Key_H)
    assert window.help_overlay.isVisible()
    assert "Shift+1 … 9" in window.help_overlay.text()
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert not window.help_overlay.isVisible()
    qtbot.keyClick(window, Qt.Key.Key_3)
    # The worker applies the mode between frames and reports it with the next frame.
    qtbot.waitUntil(lambda: window.worker.settings.scene_mode == SceneMode(HOLD, 2), timeout=2000)
    qtbot.waitUntil(lambda: window.panel.mode_label.text().startswith("held mountain"))
    assert window.settings.scene_mode == HOLD and window.settings.scene_category == "mountain"
    qtbot.keyClick(window, Qt.Key.Key_Exclam, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: window.worker.settings.scene_mode == SceneMode(BIAS, 0), timeout=2000)
    qtbot.keyClick(window, Qt.Key.Key_0)
    qtbot.waitUntil(lambda: window.worker.settings.scene_mode == SceneMode(AUTO), timeout=2000)
    qtbot.waitUntil(
        lambda: window.panel.mode_label.text() == "auto (the music chooses)", timeout=2000
    )
    qtbot.keyClick(window, Qt.Key.Key_Tab)
    assert not window.panel.isVisible() and not window.spectrogram.isVisible()
    qtbot.keyClick(window, Qt.Key.Key_Tab)
    assert window.panel.isVisible()
    start = window.settings.reactivity
    qtbot.keyClick(window, Qt.Key.Key_Minus)
    assert window.settings.reactivity == start - 0.25
    qtbot.keyClick(window, Qt.Key.Key_F11)
    qtbot.waitUntil(window.isFullScreen, timeout=2000)
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not window.isFullScreen(), timeout=2000)


def test_seeks_in_a_row_add_up_before_the_file_has_moved(qtbot, make_window, model_dir, beats_file):
    """Three 5-s seeks handled in one turn of the GUI's loop (a held arrow key's repeats
    queued behind a busy frame, a remote's burst) go 15 s on: each starts from where the
    one before asked to go, not from where the file still stands (they had gone 5 s)."""
    window = make_window(model_dir)
    assert window.play_file(beats_file)
    qtbot.wait(300)
    start = window.source.position_seconds
    for _ in range(3):
        window.seek_relative(5.0)
    assert window.source.position_seconds == pytest.approx(start + 15.0, abs=1e-9)
    qtbot.wait(300)  # the feeder has moved there, and playback goes on from it
    assert start + 15.0 <= window.source.position_seconds < start + 16.0


def test_canvas_alone_on_a_screen_and_back(qtbot, make_window, model_dir):
    window = make_window(model_dir)
    window.show()
    screen = QGuiApplication.primaryScreen()
    window.detach_canvas(screen)
    assert window.canvas.window() is window.canvas_window
    qtbot.waitUntil(window.canvas_window.isFullScreen, timeout=2000)
    assert window.preview.isVisible()  # what the canvas shows, here
    assert window.preview_label.text() == (
        f"The canvas is alone on {screen_name(screen.name())}; here is what it shows, upright. "
        "Esc or S brings it back."
    )
    paints = window.preview.paints
    wait_for_frames(qtbot, window, 5)  # frames still reach the detached canvas...
    qtbot.waitUntil(lambda: window.preview.paints >= paints + 3, timeout=2000)  # ...and it
    qtbot.keyClick(window.canvas_window, Qt.Key.Key_Escape)
    assert window.canvas_window is None and window.canvas.window() is window
    assert not window.preview.isVisible() and not window.preview_label.isVisible()
    assert window.canvas_holder.layout().indexOf(window.canvas) == 0 and window.canvas.isVisible()


def test_a_canvas_whose_screen_goes_comes_back_and_returns_with_it(
    qtbot, make_window, model_dir, settings
):
    # The offscreen platform has one screen and cannot unplug it: the window's handlers of
    # QGuiApplication.screenRemoved / screenAdded are called with that real screen.
    screen = QGuiApplication.primaryScreen()
    window = make_window(model_dir)
    window.choose_canvas_screen()  # one screen: no dialog, the canvas alone on it
    assert window.canvas_window is not None and settings.canvas_detached
    assert settings.canvas_screen == screen.name()
    window.on_screen_removed(screen)
    assert window.canvas_window is None and window.canvas.window() is window
    assert window.faults[SCREEN_FAULT] == (
        f"The canvas's {screen_name(screen.name())} went away: the canvas shows here and "
        "goes back when it returns (S: another screen)"
    )
    assert settings.canvas_detached  # remembered: it goes back
    window.on_screen_added(screen)
    assert window.canvas.window() is window.canvas_window and SCREEN_FAULT not in window.faults
    qtbot.waitUntil(window.canvas_window.isFullScreen, timeout=2000)
    window.close()  # the app closes with the canvas out: remembered for the next start
    assert settings.canvas_detached
    settings.canvas_screen = "HDMI-9"
    again = make_window(model_dir)
    assert again.canvas_window is None
    assert again.faults[SCREEN_FAULT] == (
        "The canvas's screen HDMI-9 is not connected: the canvas shows here and goes there "
        "when it is (S: another screen)"
    )
    again.on_screen_added(screen)  # another screen: the canvas stays
    assert again.canvas_window is None
    again.choose_canvas_screen()
    assert SCREEN_FAULT not in again.faults and settings.canvas_screen == screen.name()
    qtbot.keyClick(again.canvas_window, Qt.Key.Key_Escape)  # the performer brings it back
    assert again.canvas_window is None and not settings.canvas_detached


def drop(window, *paths) -> None:
    """Drop `paths` on the window as a file manager does."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path)) for path in paths])
    event = QDropEvent(
        QPointF(QPoint(50, 50)),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(event)


def test_dropping_a_file_plays_it(qtbot, make_window, model_dir, beats_file, tmp_path):
    window = make_window(model_dir)
    assert window.windowTitle() == "musicscape"  # the test's demo folder is empty
    drop(window, beats_file)
    assert window.panel.source_label.text() == "file: beats.ogg"
    assert window.settings.file_path == str(beats_file)
    assert window.windowTitle() == "beats.ogg — musicscape"  # what plays, in the task bar
    broken = tmp_path / "broken.ogg"
    broken.write_bytes(b"OggS" + bytes(100))
    drop(window, broken)  # it cannot play: the file before goes on, and its name stays
    assert window.windowTitle() == "beats.ogg — musicscape"


def test_dropping_files_and_a_folder_plays_them_in_turn_once_read_on_their_own_thread(
    qtbot, make_window, model_dir, beats_file, tmp_path, monkeypatch
):
    folder = tmp_path / "set"
    folder.mkdir()
    second, third = (folder / name for name in ("b.ogg", "a.ogg"))
    for copy in (second, third):
        shutil.copy(beats_file, copy)
    window = make_window(model_dir)
    reads = []
    from_paths = Playlist.from_paths.__func__

    def read_on(cls, *args, **kwargs):  # which thread walks the folder
        reads.append(threading.current_thread())
        return from_paths(cls, *args, **kwargs)

    monkeypatch.setattr(Playlist, "from_paths", classmethod(read_on))
    drop(window, beats_file, folder)
    assert window.faults["playlist"] == f"Reading {beats_file}, {folder} …"
    qtbot.waitUntil(lambda: window.sources.playlist is not None, timeout=5000)
    assert reads[-1] is not threading.main_thread()  # read on a thread of its own
    assert window.sources.playlist.files == [beats_file, third, second]
    assert window.panel.source_label.text() == "file: beats.ogg"
    assert "playlist" not in window.faults
    empty = tmp_path / "photos"
    empty.mkdir()
    drop(window, empty)  # nothing to play: said, and the music goes on
    qtbot.waitUntil(lambda: "source" in window.faults, timeout=5000)
    assert window.faults["source"].startswith(
        f"Cannot play that: the folder {empty} holds no audio file (.wav .flac"
    )
    assert window.panel.source_label.text() == "file: beats.ogg"
    assert window.source.path == beats_file and "playlist" not in window.faults
    drop(window, empty)
    drop(window, folder)  # a folder dropped while another is read: the last one plays
    qtbot.waitUntil(lambda: window.sources.playlist.files == [third, second], timeout=5000)
    qtbot.wait(500)
    assert window.sources.playlist.files == [third, second] and "source" not in window.faults
    drop(window, folder)
    drop(window, tmp_path / "gone.ogg")  # superseded by a file that cannot play: said at once
    assert window.faults["source"] == f"Cannot play that: {tmp_path / 'gone.ogg'} does not exist"
    assert "playlist" not in window.faults  # the folder's "Reading …" went with it


def test_remembered_input_that_is_absent_is_reported(qtbot, make_window, model_dir, settings):
    settings.source_kind = SOURCE_INPUT
    settings.input_key = "device:USB Mixer That Is Not Here"
    window = make_window(model_dir)
    assert "'USB Mixer That Is Not Here' is not connected" in window.faults["source"]
    picker = window.panel.source_picker
    assert picker.currentText() == "USB Mixer That Is Not Here (not there now)"
    picker.activated.emit(picker.currentIndex())  # picked again: it is still looked for
    assert window.source is None and settings.input_key == "device:USB Mixer That Is Not Here"
    count = picker.count()
    window.sources._sync_picker()  # synced again (a restart of the source): still one entry
    assert picker.count() == count and picker.currentText().endswith("(not there now)")
    qtbot.waitUntil(lambda: window.faults.get("source", "").startswith("Lost input"), timeout=8000)
    assert settings.input_key == "device:USB Mixer That Is Not Here"  # the choice is kept
    wait_for_frames(qtbot, window, 5)  # the picture keeps moving on silence


def test_gui_keeps_turning_while_inference_runs(qtbot, make_window, conv_model_dir, tmp_path):
    """Inference runs off the GUI thread: the event loop serves a fast timer while the encoder
    and generator keep running. How long its gaps are is a figure of `musicscape bench --app`."""
    write_ogg(
        tmp_path / "long.ogg",
        np.random.default_rng(1).uniform(-0.3, 0.3, 22050 * 8).astype(np.float32),
    )
    window = make_window(conv_model_dir)
    window.play_file(tmp_path / "long.ogg")
    wait_for_frames(qtbot, window, 30)
    runs_seen: list[int] = []  # the encoder's run count at each tick of a GUI timer
    timer = QTimer()
    timer.timeout.connect(lambda: runs_seen.append(window.worker.encoder_runs))
    runs_before = window.worker.encoder_runs
    painted_before = window.canvas.frames_painted
    timer.start(2)
    qtbot.waitUntil(lambda: window.worker.encoder_runs >= runs_before + 8, timeout=30_000)
    timer.stop()
    # The GUI served its timer between the encoder runs, and painted the new frames.
    assert len(set(runs_seen)) >= 8
    assert window.canvas.frames_painted > painted_before


def test_a_window_larger_than_its_screen_is_fitted_inside_it(
    qtbot, model_dir, settings, empty_demo_dir
):
    from PyQt6.QtCore import QRect

    from visualizer.app.main_window import MainWindow

    def open_window() -> MainWindow:
        window = MainWindow(settings, model_dir, empty_demo_dir, use_output_device=False)
        qtbot.addWidget(window)
        return window

    area = QGuiApplication.primaryScreen().availableGeometry()
    first = open_window()  # first run: the default 1100 x 720, on this 800 x 800 screen
    assert (first.width(), first.height()) == (min(1100, area.width()), min(720, area.height()))
    assert area.contains(first.geometry())
    # a size and place saved on a bigger monitor, restored on this one
    first.setGeometry(
        QRect(area.x() + 300, area.y() + 200, area.width() + 700, area.height() + 400)
    )
    settings.geometry = first.saveGeometry()
    first.shutdown()
    again = open_window()
    try:
        assert area.contains(again.geometry())
    finally:
        again.shutdown()
