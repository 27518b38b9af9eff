"""visualizer/app/show_log.py: an exception nothing caught, in a Qt slot (PyQt6 would end
the process) or in a thread, is written with its traceback and told to the window, and the
app goes on; faults are written with their times; a repeated error is counted; the worker
starts a picture that an error stopped again and logs why; the real app in a subprocess
writes its log where `--log` or the XDG state folder says."""

from __future__ import annotations

import os
import re
import shutil
import signal
import sys
import threading
from pathlib import Path

import pytest
from PyQt6.QtCore import QTimer

from visualizer.app.main_window import UNEXPECTED_FAULT
from visualizer.app.scene_director import HOLD
from visualizer.app.show_log import LOG_LIMIT_BYTES, ShowLog, default_log_path
from visualizer.bundled import assets_dir, package_version

from .test_app_faults import FRAME_TIMEOUT_MS, _trap_models, wait_for_frames
from .test_quit_signals import running_app, signalled, wait_for

STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}"


def raise_in_a_slot() -> None:
    raise RuntimeError("boom in a slot")


def test_an_exception_leaving_a_slot_is_logged_told_and_the_hooks_go_back(qtbot, tmp_path):
    hooks = (sys.excepthook, threading.excepthook)
    log = ShowLog(tmp_path / "logs" / "show.log")
    log.install()
    assert (sys.excepthook, threading.excepthook) != hooks
    with qtbot.waitSignal(log.unexpected_error, timeout=5000) as told:
        QTimer.singleShot(0, raise_in_a_slot)
    assert told.args == ["in the window: RuntimeError: boom in a slot"]
    log.close()
    assert (sys.excepthook, threading.excepthook) == hooks
    text = (tmp_path / "logs" / "show.log").read_text()
    assert re.search(
        rf"^{STAMP} error in the window: RuntimeError: boom in a slot\n"
        r"Traceback \(most recent call last\):\n"
        r'  File ".*test_show_log.py", line \d+, in raise_in_a_slot\n',
        text,
        re.MULTILINE,
    ), text
    assert re.search(rf"^{STAMP} musicscape closed\n\Z", text, re.MULTILINE)


def test_an_exception_ending_a_thread_is_logged_and_told(qtbot, show_log):
    def fail() -> None:
        raise ValueError("no such\n  address")

    with qtbot.waitSignal(show_log.unexpected_error, timeout=5000) as told:
        thread = threading.Thread(target=fail, name="osc-in")
        thread.start()
        thread.join()
    assert told.args == ["in thread osc-in: ValueError: no such address"]
    text = show_log.path.read_text()
    assert "error in thread osc-in: ValueError: no such address\nTraceback" in text
    assert ', in fail\n    raise ValueError("no such\\n  address")' in text


def test_a_repeated_error_is_written_once_and_then_counted(tmp_path):
    log = ShowLog(tmp_path / "show.log")
    for _ in range(100):
        try:
            {}["missing"]
        except KeyError as error:
            log.report("the music encoder", error)
    log.close()
    text = log.path.read_text()
    assert text.count("Traceback (most recent call last)") == 1
    assert text.count("error in the music encoder: KeyError: 'missing'\n") == 1
    assert re.search(
        rf"^{STAMP} in the music encoder: KeyError: 'missing' \(99 more times\)$",
        text,
        re.MULTILINE,
    ), text


def test_faults_are_written_with_their_times_and_the_unexpected_line_goes(
    qtbot, make_window, tmp_path, show_log
):
    window = make_window(tmp_path / "no models here", show_log=show_log)
    assert window.faults["models"].startswith("No picture: ")
    window.set_fault("source", "The input 'USB mic' is gone; looking for it every 2 s")
    window.set_fault("source", None)
    text = show_log.path.read_text()
    assert re.search(rf"^{STAMP} fault \(models\): No picture: ", text, re.MULTILINE), text
    assert re.search(
        rf"^{STAMP} fault \(source\): The input 'USB mic' is gone; looking for it every 2 s\n"
        rf"{STAMP} fault \(source\) cleared$",
        text,
        re.MULTILINE,
    ), text
    with qtbot.waitSignal(show_log.unexpected_error, timeout=5000):
        QTimer.singleShot(0, raise_in_a_slot)
    assert window.faults[UNEXPECTED_FAULT] == (
        "Something went wrong in the window: RuntimeError: boom in a slot. musicscape goes "
        f"on; the details are in {show_log.path}."
    )
    assert window.isVisible()
    window._unexpected_timer.setInterval(50)  # as if its 30 s had passed
    window._unexpected_timer.start()
    qtbot.waitUntil(lambda: UNEXPECTED_FAULT not in window.faults, timeout=5000)


def test_a_picture_stopped_by_an_error_starts_again_and_the_error_is_logged(
    qtbot, make_window, tmp_path, show_log
):
    """The generator fails while the first category is held (a real ONNX model built to);
    back on auto, the frame loop starts again by itself: no reload needed."""
    window = make_window(_trap_models(tmp_path / "models", fail_above=5.0), show_log=show_log)
    wait_for_frames(qtbot, window, 5)
    window.set_scene(HOLD, 0)
    qtbot.waitUntil(lambda: "worker" in window.faults, timeout=FRAME_TIMEOUT_MS)
    assert window.faults["worker"].startswith("The picture stopped: ")
    assert window.faults["worker"].endswith(" It starts again every 1 s until it runs.")
    worker = window.worker
    governor = worker.output_governor  # the first start's; a restart picks the size afresh
    assert governor is not None
    window.set_auto_mode()
    qtbot.waitUntil(lambda: "worker" not in window.faults, timeout=FRAME_TIMEOUT_MS)
    wait_for_frames(qtbot, window, 10)
    assert window.worker is worker  # the same worker: it was never given up
    assert worker.output_governor is not None and worker.output_governor is not governor
    text = show_log.path.read_text()
    assert re.search(rf"^{STAMP} error in the picture: \w+: .*\nTraceback", text, re.MULTILINE)
    assert "in _frame_loop\n" in text
    assert re.search(rf"^{STAMP} fault \(worker\) cleared$", text, re.MULTILINE), text


def test_a_log_grown_past_its_limit_is_moved_aside_at_the_next_start(tmp_path):
    path = tmp_path / "show.log"
    old = "x" * (LOG_LIMIT_BYTES + 1)
    path.write_text(old)
    log = ShowLog(path)
    log.started(["--fullscreen"])
    log.close()
    assert (tmp_path / "show.log.1").read_text() == old
    lines = path.read_text().splitlines()
    assert len(lines) == 2
    assert re.fullmatch(
        rf"{STAMP} musicscape {re.escape(package_version())} started \(--fullscreen\); Python .*",
        lines[0],
    )


def test_a_log_that_cannot_be_written_says_why_and_writes_nothing(tmp_path):
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder")
    log = ShowLog(blocker / "show.log")
    assert log.problem == f"cannot write the log {blocker / 'show.log'}: {blocker} is not a folder"
    log.write("nothing")
    log.close()
    assert blocker.read_text() == "not a folder"


def test_the_app_writes_its_log_to_the_state_folder_or_where_log_says(
    tmp_path, beats_file, monkeypatch
):
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)  # the app's HOME decides
    with running_app(tmp_path, beats_file) as app:
        default = tmp_path / ".local" / "state" / "musicscape" / "musicscape.log"
        wait_for(lambda: default.is_file() and "playing" in default.read_text(), 60, "the log")
        signalled(app, signal.SIGTERM)
    text = default.read_text()
    # the --file plays first: nothing the last run remembered (here the demo) starts before
    playing = re.findall(rf"^{STAMP} (playing .*)$", text, re.M)
    assert playing == [f"playing {beats_file}"], text
    assert re.search(rf"^{STAMP} musicscape {re.escape(package_version())} started \(", text, re.M)
    assert re.search(rf"^{STAMP} musicscape closed$", text, re.MULTILINE), text
    models = assets_dir() / "models"
    assert re.search(
        rf"^{STAMP} models loaded from {re.escape(str(models))} \(desert, mountain, sky, "
        r"water; runs on \w+\)$",  # CPU here; CUDA where onnxruntime-gpu has a GPU
        text,
        re.M,
    ), text
    # Paths given relative to where the app started are written whole, so the log says
    # which file played wherever it is read.
    music = tmp_path / "music" / "beats.ogg"
    music.parent.mkdir()
    shutil.copyfile(beats_file, music)
    relative = Path("music/beats.ogg"), "--log", "show/tonight.log"
    with running_app(tmp_path, *relative, folder=tmp_path) as app:
        chosen = tmp_path / "show" / "tonight.log"
        wait_for(lambda: chosen.is_file() and "playing" in chosen.read_text(), 60, "the log")
        signalled(app, signal.SIGTERM)
    text = chosen.read_text()
    assert "--log show/tonight.log" in text
    assert re.findall(rf"^{STAMP} (playing .*)$", text, re.M) == [f"playing {music}"]


def test_the_default_log_lives_in_the_xdg_state_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert default_log_path() == tmp_path / "state" / "musicscape" / "musicscape.log"
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_log_path() == tmp_path / ".local" / "state" / "musicscape" / "musicscape.log"


def test_a_log_that_grows_past_its_limit_during_a_show_starts_a_new_file(tmp_path):
    log = ShowLog(tmp_path / "show.log")
    log.install()
    line = "fault (source): Lost input 'USB mic': it stopped delivering sound. " + "x" * 100
    written = 0
    while not (tmp_path / "show.log.1").exists():
        log.write(line)
        written += 1
    older = (tmp_path / "show.log.1").read_text().splitlines()
    assert len(older) == written and older[-1].endswith(line)
    assert (tmp_path / "show.log.1").stat().st_size > LOG_LIMIT_BYTES
    assert log.path.read_text() == ""  # the line that passed the limit ended the older file
    for _ in range(5):
        log.write(line)
    log.close()
    lines = log.path.read_text().splitlines()
    assert len(lines) == 6 and lines[-1].endswith(" musicscape closed")


@pytest.mark.skipif(
    not (os.access("/dev/full", os.W_OK) and os.access("/dev", os.W_OK)),
    reason="needs /dev/full and a writable /dev (root in a container, as CI runs)",
)
def test_a_log_on_a_full_disk_stops_writing_says_why_and_the_hooks_still_work(qtbot, capsys):
    log = ShowLog(Path("/dev/full"))
    log.install()
    assert log.problem is None
    log.write("the first line cannot be written")
    assert log.problem == "cannot write the log /dev/full: No space left on device"
    with qtbot.waitSignal(log.unexpected_error, timeout=5000) as told:
        QTimer.singleShot(0, raise_in_a_slot)
    assert told.args == ["in the window: RuntimeError: boom in a slot"]
    log.close()
    assert "musicscape: cannot write the log /dev/full" in capsys.readouterr().err


def test_the_files_a_show_writes_are_in_its_log(
    qtbot, make_window, model_dir, beats_file, tmp_path, show_log
):
    """A recording (where it went, then what it holds), a saved picture, and a recording the
    record folder refuses: after the show the log says which files were written when."""
    window = make_window(model_dir, show_log=show_log)
    folder = tmp_path / "show"
    folder.mkdir()
    window.stage.record_dir = folder
    window.play_file(beats_file)
    qtbot.waitUntil(lambda: window.canvas.frames_painted > 10, timeout=FRAME_TIMEOUT_MS)
    assert window.stage.start_recording()
    recording = window.stage.recorder.path
    wanted = window.canvas.frames_painted + 5
    qtbot.waitUntil(lambda: window.canvas.frames_painted > wanted, timeout=FRAME_TIMEOUT_MS)
    summary = window.stage.stop_recording()
    with qtbot.waitSignal(window.stage.picture_saver.saved, timeout=FRAME_TIMEOUT_MS):
        picture = window.stage.save_picture()
    window.stage.record_dir = folder / "unplugged"
    assert not window.stage.start_recording()
    text = show_log.path.read_text()
    lines = [line[24:] for line in text.splitlines() if re.match(STAMP, line)]
    assert f"recording to {recording} (720 x 720)" in lines  # the picture square, no fill
    assert f"{summary.describe()} ({recording})" in lines
    assert summary.describe().startswith(f"Saved {recording.name}: ")
    assert f"picture saved: {picture}" in lines
    refused = [line for line in lines if line.startswith("cannot record: ")]
    assert len(refused) == 1 and re.fullmatch(
        rf"cannot record: cannot write {re.escape(str(folder))}/unplugged/musicscape-\d{{8}}-"
        rf"\d{{6}}\.mp4: {re.escape(str(folder))}/unplugged does not exist",
        refused[0],
    ), refused
