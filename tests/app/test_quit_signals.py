"""visualizer/app/quit_signals.py: the real app in a subprocess (offscreen Qt, a real file,
real OSC over loopback) gets SIGTERM or Ctrl-C's SIGINT and closes as its window would: the
recording it was making is finished and plays, the settings are saved, and the exit status
says which signal."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import av
import pytest
from pythonosc.udp_client import SimpleUDPClient

from visualizer.app.app_settings import settings_from_file

START_TIMEOUT = 60.0
EXIT_TIMEOUT = 30.0


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    """A loopback port free now: UDP by default, TCP with `socket.SOCK_STREAM`."""
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def running_app(tmp_path: Path, music: Path, *options: str, folder: Path | None = None):
    """The app playing `music` in a subprocess (offscreen, silent clock), started in
    `folder` (default: this one); killed at the end if it is still there."""
    environment = os.environ | {"QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path)}
    code = "import sys; from visualizer.cli import main; sys.exit(main(sys.argv[1:]))"
    command = [sys.executable, "-c", code, "--silent", "--settings", str(tmp_path / "app.ini")]
    app = subprocess.Popen(
        [*command, "--file", str(music), *options],
        env=environment,
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield app
    finally:
        app.kill()


def signalled(app: subprocess.Popen, number: int) -> str:
    """Send `number`, wait for the app to end; what it printed."""
    app.send_signal(number)
    output, _ = app.communicate(timeout=EXIT_TIMEOUT)
    return output


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


@pytest.mark.parametrize(
    ("codec_options", "suffix", "codec"),
    [((), ".mp4", "h264"), (("--record-codec", "prores"), ".mov", "prores")],
)
def test_sigterm_finishes_the_recording_and_saves_the_settings(
    tmp_path, beats_file, codec_options, suffix, codec
):
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    port = free_port()
    options = ("--record-dir", str(recordings), "--osc-in", str(port), *codec_options)
    with running_app(tmp_path, beats_file, *options) as app:
        client = SimpleUDPClient("127.0.0.1", port)

        def recording_started() -> bool:
            assert app.poll() is None, app.stdout.read()
            client.send_message("/musicscape/record", 1)  # until the app listens
            return any(recordings.iterdir())

        wait_for(recording_started, START_TIMEOUT, "the recording to start")
        time.sleep(3.0)
        output = signalled(app, signal.SIGTERM)
    assert app.returncode == 128 + signal.SIGTERM, output
    (video,) = recordings.iterdir()
    assert video.suffix == suffix
    with av.open(str(video)) as container:
        assert container.streams.video[0].codec_context.name == codec
        frames = sum(1 for _ in container.decode(video=0))
        assert container.streams.audio, "the recording has its sound"
    assert frames > 30  # about 3 s at the display rate, finished and indexed
    settings = settings_from_file(str(tmp_path / "app.ini"))
    assert settings.value("window/geometry") is not None
    assert settings.value("stage/record_codec") == (codec if codec_options else None)


def test_ctrl_c_closes_the_window_and_exits_130(tmp_path, beats_file):
    with running_app(tmp_path, beats_file) as app:
        wait_for(lambda: (tmp_path / "app.ini").exists(), START_TIMEOUT, "the app to start")
        time.sleep(2.0)
        output = signalled(app, signal.SIGINT)
    assert app.returncode == 128 + signal.SIGINT, output
    assert "Traceback" not in output and "KeyboardInterrupt" not in output


def test_sigterm_sent_to_the_process_and_its_group_at_once_still_closes_gracefully(
    tmp_path, beats_file
):
    log = tmp_path / "show.log"
    with running_app(tmp_path, beats_file, "--log", str(log)) as app:
        wait_for(lambda: log.exists() and "playing" in log.read_text(), START_TIMEOUT, "play")
        time.sleep(1.0)
        app.send_signal(signal.SIGTERM)  # as GNU timeout sends it: to the process, then
        time.sleep(0.05)  # to its process group, as the close has begun (two at the same
        output = signalled(app, signal.SIGTERM)  # moment would merge into one)
    assert log.read_text().splitlines()[-1].endswith("musicscape closed"), log.read_text()
    assert app.returncode == 128 + signal.SIGTERM, output
    assert settings_from_file(str(tmp_path / "app.ini")).value("window/geometry") is not None


def test_a_signal_a_second_after_the_first_insists(qapp):
    from visualizer.app.quit_signals import REPEAT_SECONDS, QuitOnSignals

    quit_signals = QuitOnSignals(lambda: None)
    try:
        assert not quit_signals.insists(time.monotonic())  # none received yet
        quit_signals.received, quit_signals._received_at = signal.SIGTERM, 100.0
        assert not quit_signals.insists(100.001)  # the same request, delivered twice
        assert not quit_signals.insists(100.0 + REPEAT_SECONDS - 0.01)
        assert quit_signals.insists(100.0 + REPEAT_SECONDS)  # Ctrl-C again: quit at once
    finally:
        quit_signals.received = None  # so that restore gives this test process its own back
        quit_signals.restore()


@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGTERM])
def test_the_handlers_before_come_back(qapp, number):
    from visualizer.app.quit_signals import QuitOnSignals

    before = signal.getsignal(number)
    quit_signals = QuitOnSignals(lambda: None)
    assert signal.getsignal(number) == quit_signals._on_signal
    quit_signals.restore()
    assert signal.getsignal(number) is before


def test_a_sigterm_while_the_window_is_being_made_closes_it_as_soon_as_it_shows(
    tmp_path, beats_file
):
    log = tmp_path / "show.log"
    with running_app(tmp_path, beats_file, "--log", str(log)) as app:
        # "started" is written before the window is made: the signal comes while it is
        wait_for(lambda: log.exists() and "started" in log.read_text(), START_TIMEOUT, "start")
        output = signalled(app, signal.SIGTERM)
    assert app.returncode == 128 + signal.SIGTERM, output
    lines = log.read_text().splitlines()
    assert "models loaded" in "\n".join(lines)  # the window was made, then closed
    assert lines[-1].endswith("musicscape closed")
    assert settings_from_file(str(tmp_path / "app.ini")).value("window/geometry") is not None
