"""Fixtures for the app tests: headless Qt, small real ONNX models, audio files, settings
in a temporary INI file, and a private PulseAudio daemon with a null sink."""

from __future__ import annotations

import contextlib
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from visualizer.app.audio_sources import let_go_of_stuck_streams_at_exit
from visualizer.app.main_window import MainWindow
from visualizer.app.show_log import ShowLog

from .onnx_models import build_model_dir

RATE = 22_050


def write_ogg(path: Path, signal: np.ndarray, rate: int = RATE) -> Path:
    """Ogg Vorbis written one second at a time (one long write segfaults libsndfile)."""
    with sf.SoundFile(str(path), "w", rate, 1, format="OGG") as handle:
        for start in range(0, len(signal), rate):
            handle.write(signal[start : start + rate])
    return path


def tone_signal(seconds: float, hz: float, rate: int = RATE) -> np.ndarray:
    """A sine of `hz` at 0.3 of full scale."""
    time = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * hz * time)).astype(np.float32)


def beats_signal(seconds: float, rate: int = RATE, period: float = 0.5) -> np.ndarray:
    """A chord with a burst of noise every `period` seconds (clear onsets)."""
    t = np.arange(int(seconds * rate)) / rate
    chord = 0.2 * np.sin(2 * np.pi * 440 * t) + 0.1 * np.sin(2 * np.pi * 660 * t)
    noise = np.random.default_rng(0).standard_normal(len(t))
    bursts = (np.mod(t, period) < 0.04) * noise * 0.5
    return (chord + bursts).astype(np.float32)


def beat_times(qtbot, window, seconds: float) -> np.ndarray:
    """The worker's beats (their times) over `seconds` of the window running."""
    times: list[float] = []
    window.worker.beat.connect(times.append)
    qtbot.wait(round(seconds * 1000))
    window.worker.beat.disconnect(times.append)
    return np.array(times)


@pytest.fixture
def tracks(tmp_path):
    """Three 20-s tone tracks (220, 440 and 660 Hz), a file list's."""
    return [
        write_ogg(tmp_path / f"track{number}.ogg", tone_signal(20.0, 220.0 * number))
        for number in (1, 2, 3)
    ]


@pytest.fixture(scope="session", autouse=True)
def stuck_streams_let_go_at_exit():
    """As the app does at its end: a stream PortAudio could not close (a test's sound server
    killed at the wrong moment) must not keep the test process from ending."""
    yield
    let_go_of_stuck_streams_at_exit()


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory) -> Path:
    return build_model_dir(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="session")
def conv_model_dir(tmp_path_factory) -> Path:
    """A DCGAN-shaped generator: real convolution work on every frame."""
    return build_model_dir(tmp_path_factory.mktemp("conv_models"), convolutional=True)


@pytest.fixture(scope="session")
def beats_file(tmp_path_factory) -> Path:
    return write_ogg(tmp_path_factory.mktemp("audio") / "beats.ogg", beats_signal(30.0))


@pytest.fixture
def settings(tmp_path):
    from visualizer.app.app_settings import AppSettings, settings_from_file

    return AppSettings(settings_from_file(str(tmp_path / "settings.ini")))


@pytest.fixture
def empty_demo_dir(tmp_path) -> Path:
    directory = tmp_path / "demo"
    directory.mkdir()
    return directory


PULSE_CONFIG = """
load-module module-native-protocol-unix auth-anonymous=1 socket={socket}
load-module module-null-sink sink_name=musicscape_test sink_properties=device.description=test
set-default-sink musicscape_test
set-default-source musicscape_test.monitor
"""


def start_pulse_daemon(directory: Path) -> subprocess.Popen:
    """A PulseAudio daemon with a null sink listening on `directory`/native (started again
    on the same socket after a kill, as a restarted sound server is)."""
    binary = shutil.which("pulseaudio")
    if binary is None:
        pytest.skip("the pulseaudio binary is not installed (apt install pulseaudio)")
    socket = directory / "native"
    config = directory / "test.pa"
    config.write_text(PULSE_CONFIG.format(socket=socket))
    environment = dict(os.environ, HOME=str(directory), XDG_RUNTIME_DIR=str(directory))
    socket.unlink(missing_ok=True)  # left behind by a killed daemon
    daemon = subprocess.Popen(
        [
            binary,
            "--daemonize=no",
            "-n",
            "-F",
            str(config),
            "--exit-idle-time=-1",
            "--disable-shm=yes",
            "--log-target=stderr",
            "--system=false",
        ],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 15
    while not socket.exists():
        if daemon.poll() is not None or time.monotonic() > deadline:
            error = daemon.stderr.read().decode(errors="replace") if daemon.poll() else ""
            daemon.kill()
            pytest.fail(f"pulseaudio did not start: {error[-2000:]}")
        time.sleep(0.05)
    return daemon


@contextlib.contextmanager
def pulse_clients_use(socket: Path):
    """Point every PulseAudio client (PortAudio's 'pulse' device, paplay, pactl) at
    `socket` for the block, PortAudio's device list made afresh on entry and exit."""
    saved = {key: os.environ.get(key) for key in ("PULSE_SERVER", "PULSE_SOURCE")}
    os.environ["PULSE_SERVER"] = f"unix:{socket}"
    os.environ.pop("PULSE_SOURCE", None)
    reinitialise_portaudio()
    try:
        yield f"unix:{socket}"
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        reinitialise_portaudio()


def stop_daemon(daemon: subprocess.Popen) -> None:
    daemon.terminate()
    try:
        daemon.wait(timeout=5)
    except subprocess.TimeoutExpired:
        daemon.kill()
        daemon.wait()


@contextlib.contextmanager
def private_pulse(directory: Path):
    """A private PulseAudio daemon with a null sink whose monitor is the default source,
    listening in `directory`, that every client (PortAudio's 'pulse' device, paplay, pactl)
    points at for the block; its address."""
    daemon = start_pulse_daemon(directory)
    try:
        with pulse_clients_use(directory / "native") as server:
            yield server
    finally:
        stop_daemon(daemon)


@pytest.fixture(scope="session")
def pulse_server(tmp_path_factory):
    """`private_pulse` for the whole session."""
    with private_pulse(tmp_path_factory.mktemp("pulse")) as server:
        yield server


def reinitialise_portaudio() -> None:
    """PortAudio lists devices once per initialisation: make it look again."""
    try:
        import sounddevice
    except OSError:
        return
    sounddevice._terminate()
    sounddevice._initialize()


@pytest.fixture
def show_log(tmp_path):
    """A show's log for one test, its hooks installed as the app installs them."""
    log = ShowLog(tmp_path / "logs" / "show.log")
    log.install()
    yield log
    log.close()


@pytest.fixture
def make_window(qtbot, settings, empty_demo_dir):
    """Opens real main windows (silent clock unless asked for the output device); shuts them."""
    windows = []

    def make(
        model_dir,
        demo_dir=None,
        store=None,
        use_output_device=False,
        input_rate=None,
        worker_settings=None,
        session_bus=None,
        show_log=None,
    ):
        window = MainWindow(
            store or settings,
            model_dir,
            demo_dir or empty_demo_dir,
            use_output_device=use_output_device,
            worker_settings=worker_settings,
            input_rate=input_rate,
            session_bus=session_bus,
            show_log=show_log,
        )
        qtbot.addWidget(window)
        window.resize(900, 600)
        window.show()
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.shutdown()


def canvas_alone_on_a_window(qtbot, window, width: int, height: int) -> None:
    """The window's canvas alone in its own window of `width` x `height` (as on a second
    screen of that shape; the offscreen screen is square)."""
    from PyQt6.QtCore import QSize
    from PyQt6.QtGui import QGuiApplication

    window.detach_canvas(QGuiApplication.primaryScreen())
    qtbot.waitUntil(window.canvas_window.isFullScreen, timeout=2000)
    window.canvas_window.showNormal()
    window.canvas_window.resize(width, height)
    qtbot.waitUntil(lambda: window.canvas.size() == QSize(width, height), timeout=2000)


@pytest.fixture
def bus_address():
    """A private D-Bus session bus (dbus-daemon) for the test; its address."""
    daemon = subprocess.Popen(
        ["dbus-daemon", "--session", "--nofork", "--print-address=1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        yield daemon.stdout.readline().strip()
    finally:
        daemon.terminate()
        daemon.wait(timeout=10)
