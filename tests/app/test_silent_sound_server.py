"""A sound server that does not answer: PortAudio's open (and its initialisation, and its
check that a stream would open) waits for as long as PulseAudio or PipeWire is silent, and
the window must not wait with it (a chaos run froze the whole window for over 2 s in
`InputStream.__init__` as a sink came and went). Made real with a Unix socket that takes
connections where PULSE_SERVER points and never answers, beside a real PulseAudio daemon:
the calls give up after their wait, PortAudio is left alone while one is still out, and
all is as before once the silent server goes away."""

from __future__ import annotations

import os
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager

import pytest
from PyQt6.QtCore import QTimer

from visualizer.app.audio_sources import (
    DEFAULT_MONITOR,
    SOUND_SERVER_BUSY,
    SOUND_SERVER_CALL,
    SOUND_SERVER_SILENT,
    SOUND_SERVER_WAIT_SECONDS,
    WHAT_THIS_COMPUTER_PLAYS,
    AudioDeviceError,
    CaptureSource,
    DeviceSurvey,
    InputChoice,
    list_inputs,
    sound_server_silent,
    sound_server_waited_on,
    wait_on_sound_server,
)
from visualizer.app.device_watchdog import STUCK_STREAM_FAULT
from visualizer.app.sample_ring import SampleRing

from .conftest import RATE, private_pulse
from .test_quit_signals import wait_for

GUARD_SECONDS = 30.0  # the silent server goes away by itself after this: no test hangs
AUDIO_TIMEOUT_MS = 15_000
THIS_COMPUTER = InputChoice("this computer", "pulse", DEFAULT_MONITOR)


class SilentServer:
    """A Unix socket that accepts connections and never says a word, as a hung server;
    `close` (or the guard, after GUARD_SECONDS) ends it, and its clients' calls fail."""

    def __init__(self, path):
        self.address = f"unix:{path}"
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(str(path))
        self.listener.listen(16)
        self.closed_by_guard = False
        self._guard = threading.Timer(GUARD_SECONDS, self._close_by_guard)
        self._guard.start()

    def _close_by_guard(self) -> None:
        self.closed_by_guard = True
        self.listener.close()

    def close(self) -> None:
        self._guard.cancel()
        self.listener.close()


class SlowServer(SilentServer):
    """A server that answers late: each connection is held `delay` seconds, then carried
    to the real server's socket byte for byte; `carried` and `ended` count them."""

    def __init__(self, path, real_address: str, delay: float):
        super().__init__(path)
        self.real_path = real_address.removeprefix("unix:")
        self.delay = delay
        self.carried = self.ended = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:  # closed
                return
            time.sleep(self.delay)
            real = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                real.connect(self.real_path)
            except OSError:  # the real server has gone (the test is over): so has this one
                real.close()
                client.close()
                continue
            self.carried += 1
            threading.Thread(target=self._carry, args=(client, real), daemon=True).start()

    def _carry(self, one: socket.socket, other: socket.socket) -> None:
        with one, other:
            try:
                while True:
                    ready, _, _ = select.select([one, other], [], [])
                    for end in ready:
                        data = end.recv(65536)
                        if not data:
                            return
                        (other if end is one else one).sendall(data)
            except OSError:  # one side reset it: ended all the same
                return
            finally:
                self.ended += 1


@contextmanager
def clients_pointed_at(server: SilentServer):
    """PulseAudio clients (PortAudio's 'pulse' device, pactl) look for the silent server."""
    before = os.environ["PULSE_SERVER"]
    os.environ["PULSE_SERVER"] = server.address
    try:
        yield
    finally:
        os.environ["PULSE_SERVER"] = before


def test_a_call_that_outlasts_its_wait_is_left_to_its_thread_and_portaudio_alone():
    assert wait_on_sound_server(lambda: 42) == 42
    with pytest.raises(ValueError, match="refused"):  # raised on the thread that waits
        wait_on_sound_server(lambda: (_ for _ in ()).throw(ValueError("refused")))

    answer, late = threading.Event(), []

    def slow_call() -> str:
        answer.wait(GUARD_SECONDS)
        return "opened"

    began = time.monotonic()
    with pytest.raises(AudioDeviceError) as refused:
        wait_on_sound_server(
            slow_call, late=lambda result: late.append((result, threading.current_thread().name))
        )
    assert str(refused.value) == (
        f"the sound server did not answer within {SOUND_SERVER_WAIT_SECONDS:g} s"
    )
    assert time.monotonic() - began >= SOUND_SERVER_WAIT_SECONDS
    assert sound_server_waited_on() and sound_server_silent() and late == []
    with pytest.raises(AudioDeviceError, match=f"^{re.escape(SOUND_SERVER_BUSY)}$"):
        list_inputs()  # PortAudio is left alone meanwhile
    survey = DeviceSurvey()  # nor re-initialised by a device survey
    wait_for(lambda: survey.done, 10, "the survey to be refused")
    assert str(survey.error) == SOUND_SERVER_BUSY and not survey.reinitialised
    answer.set()
    wait_for(lambda: not sound_server_waited_on(), 10, "the late call to return")
    assert not sound_server_silent()
    assert late == [("opened", SOUND_SERVER_CALL)]  # what came late, handled on its thread


@pytest.fixture
def pulse_daemon(tmp_path):
    """`private_pulse` for one test (the window's test unloads its sink)."""
    with private_pulse(tmp_path) as address:
        yield address


def test_a_device_survey_lists_what_the_server_has_without_being_waited_on(pulse_daemon):
    survey = DeviceSurvey()
    wait_for(lambda: survey.done, 10, "the survey")
    assert survey.error is None and survey.reinitialised and survey.has_output
    monitor = f"PulseAudio: {WHAT_THIS_COMPUTER_PLAYS}"
    assert [choice.label for choice in survey.inputs if choice.device == "pulse"] == [
        "pulse",
        monitor,
        "PulseAudio: monitor of musicscape_test",
    ]
    assert [choice.label for choice in survey.outputs if choice.device == "pulse"] == [
        "pulse",
        "PulseAudio: musicscape_test",
    ]
    assert not sound_server_waited_on()


def test_a_survey_refused_while_a_call_is_out_leaves_the_pickers_as_they_were(
    qtbot, pulse_daemon, make_window, model_dir
):
    window = make_window(model_dir)
    sources = window.sources
    inputs, outputs = list(sources.inputs), list(sources.outputs)
    assert any(choice.pulse_sink == "musicscape_test" for choice in outputs)
    answer = threading.Event()
    with pytest.raises(AudioDeviceError):  # a call that outlasts its wait, still out
        wait_on_sound_server(lambda: answer.wait(GUARD_SECONDS))
    try:
        window.panel.refresh_requested.emit()
        qtbot.waitUntil(lambda: not window.watchdog.surveying, timeout=AUDIO_TIMEOUT_MS)
        assert window.faults["inputs"] == SOUND_SERVER_BUSY
        # the lists as they were: an output chosen from them is still found there
        assert sources.inputs == inputs and sources.outputs == outputs
        assert window.panel.output_picker.count() == 1 + len(outputs)
    finally:
        answer.set()
    wait_for(lambda: not sound_server_waited_on(), 10, "the call to return")
    window.panel.refresh_requested.emit()
    qtbot.waitUntil(lambda: "inputs" not in window.faults, timeout=AUDIO_TIMEOUT_MS)
    assert sources.outputs == outputs


def test_opening_an_input_on_a_silent_server_gives_up_and_works_once_it_is_gone(
    pulse_daemon, tmp_path
):
    server = SilentServer(tmp_path / "silent")
    try:
        with clients_pointed_at(server):
            source = CaptureSource(THIS_COMPUTER, SampleRing(RATE * 8, RATE))
            with pytest.raises(AudioDeviceError) as refused:
                source.start()
            assert str(refused.value) == (
                "cannot open input 'this computer': the sound server did not answer within "
                f"{SOUND_SERVER_WAIT_SECONDS:g} s"
            )
            assert sound_server_waited_on() and not server.closed_by_guard
            with pytest.raises(AudioDeviceError) as busy:
                source.start()  # not a second open queued behind the first
            assert str(busy.value) == f"cannot open input 'this computer': {SOUND_SERVER_BUSY}"
    finally:
        server.close()
    wait_for(lambda: not sound_server_waited_on(), 10, "the open to fail once it had gone")
    ring = SampleRing(RATE * 8, RATE)
    source = CaptureSource(THIS_COMPUTER, ring)
    source.start()
    try:
        wait_for(lambda: ring.written > RATE // 4, 10, "a quarter second captured")
    finally:
        source.stop()


def test_a_stream_that_opens_after_the_wait_is_closed(pulse_daemon, tmp_path):
    def recording_streams() -> list[str]:
        listing = subprocess.run(
            ["pactl", f"--server={pulse_daemon}", "list", "short", "source-outputs"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        return listing.stdout.splitlines()

    server = SlowServer(tmp_path / "slow", pulse_daemon, delay=2 * SOUND_SERVER_WAIT_SECONDS)
    try:
        with clients_pointed_at(server):
            with pytest.raises(AudioDeviceError, match="did not answer within"):
                CaptureSource(THIS_COMPUTER, SampleRing(RATE * 8, RATE)).start()
            wait_for(lambda: server.carried > 0, 10, "the server to answer after all")
            wait_for(lambda: not sound_server_waited_on(), 10, "the late open to return")
            wait_for(lambda: server.ended == server.carried, 10, "the late stream to be closed")
            assert recording_streams() == []
    finally:
        server.close()


@pytest.mark.slow  # ~15 s end to end
def test_the_window_goes_on_while_the_sound_server_is_silent_and_recaptures_after(
    qtbot, pulse_daemon, make_window, model_dir, tmp_path
):
    def pactl(*args: str) -> None:
        subprocess.run(["pactl", f"--server={pulse_daemon}", *args], check=True, timeout=10)

    window = make_window(model_dir)
    choice = next(c for c in list_inputs() if c.label == f"PulseAudio: {WHAT_THIS_COMPUTER_PLAYS}")
    assert window.capture_input(choice)
    qtbot.waitUntil(lambda: window.ring.written > RATE // 2, timeout=AUDIO_TIMEOUT_MS)
    ticks, longest_gap = [time.monotonic()], [0.0]

    def tick() -> None:  # the GUI thread's event loop, as seen from a timer on it
        now = time.monotonic()
        longest_gap[0] = max(longest_gap[0], now - ticks[0])
        ticks[0] = now

    timer = QTimer()  # stopped below: a tick after the test would call into a dead frame
    timer.timeout.connect(tick)
    timer.start(20)
    server = SilentServer(tmp_path / "silent")
    try:
        with clients_pointed_at(server):
            pactl("unload-module", "module-null-sink")  # the input stops: the watchdog looks
            qtbot.waitUntil(
                lambda: window.faults.get(STUCK_STREAM_FAULT) == f"{SOUND_SERVER_SILENT}.",
                timeout=AUDIO_TIMEOUT_MS,
            )
            assert window.faults["source"].startswith(
                f"Lost input 'PulseAudio: {WHAT_THIS_COMPUTER_PLAYS}'"
            )
            qtbot.wait(3000)  # two more retries while the server stays silent
            assert not server.closed_by_guard
            # the window waited on it once, SOUND_SERVER_WAIT_SECONDS, never again
            assert longest_gap[0] < GUARD_SECONDS / 2
    finally:
        timer.stop()
        server.close()
    pactl("load-module", "module-null-sink", "sink_name=musicscape_test")
    pactl("set-default-sink", "musicscape_test")
    qtbot.waitUntil(lambda: STUCK_STREAM_FAULT not in window.faults, timeout=AUDIO_TIMEOUT_MS)
    qtbot.waitUntil(lambda: "source" not in window.faults, timeout=AUDIO_TIMEOUT_MS)
    written = window.ring.written
    qtbot.waitUntil(lambda: window.ring.written > written + RATE // 2, timeout=AUDIO_TIMEOUT_MS)
    assert isinstance(window.source, CaptureSource) and window.source.choice == choice


@pytest.mark.slow  # ~10 s end to end
def test_the_window_goes_on_while_portaudio_looks_for_a_lost_input(
    qtbot, pulse_daemon, make_window, model_dir, tmp_path, monkeypatch
):
    # The watchdog looks for a lost input every few seconds by re-initialising PortAudio,
    # which stalled the window each time (56-64 ms every 2 s here, longer with a slow
    # server or many ALSA devices; up to SOUND_SERVER_WAIT_SECONDS with a silent one).
    # With a server that answers each connection 0.3 s late, a look takes over a second
    # here: the window's timer must tick within its first half second.
    import sounddevice

    began, looks, ticks_into = [None], [], []
    real_initialise = sounddevice._initialize

    def initialise() -> None:  # the real call, timed
        began[0] = time.monotonic()
        try:
            real_initialise()
        finally:
            looks.append(time.monotonic() - began[0])
            began[0] = None

    def tick() -> None:  # the GUI thread's event loop, as seen from a timer on it
        if began[0] is not None:  # how far into which look
            ticks_into.append((len(looks), time.monotonic() - began[0]))

    window = make_window(model_dir)
    choice = next(c for c in list_inputs() if c.label == f"PulseAudio: {WHAT_THIS_COMPUTER_PLAYS}")
    assert window.capture_input(choice)
    # 2 s in: a monitor's sink unloaded within about a second of its stream starting can
    # leave the stream stuck in PortAudio (README), and then PortAudio is not looked at
    qtbot.waitUntil(lambda: window.ring.written > 2 * RATE, timeout=AUDIO_TIMEOUT_MS)
    monkeypatch.setattr(sounddevice, "_initialize", initialise)
    timer = QTimer()  # stopped below: a tick after the test would call into a dead frame
    timer.timeout.connect(tick)
    timer.start(10)
    server = SlowServer(tmp_path / "slow", pulse_daemon, delay=0.3)
    try:
        with clients_pointed_at(server):
            subprocess.run(
                ["pactl", f"--server={pulse_daemon}", "unload-module", "module-null-sink"],
                check=True,
                timeout=10,
            )
            qtbot.waitUntil(lambda: len(looks) >= 2, timeout=AUDIO_TIMEOUT_MS)
            qtbot.waitUntil(  # the looks' answers taken up: the input is not there
                lambda: window.panel.source_picker.currentText().endswith("(not there now)"),
                timeout=AUDIO_TIMEOUT_MS,
            )
    finally:
        timer.stop()
        server.close()
    assert window.faults["source"].startswith(
        f"Lost input 'PulseAudio: {WHAT_THIS_COMPUTER_PLAYS}': it stopped delivering sound"
    )
    assert min(looks[:2]) >= 0.3  # each look waited on the late server
    for look in (0, 1):  # and the window ticked early in each
        assert min(into for which, into in ticks_into if which == look) < 0.5, ticks_into


def test_the_app_starts_plays_and_closes_while_the_sound_server_is_silent(
    model_dir, beats_file, tmp_path
):
    # Importing sounddevice initialises PortAudio, which asks the server for its devices:
    # with a silent one the app never opened its window.
    server = SilentServer(tmp_path / "silent")
    log = tmp_path / "show.log"
    code = "import sys; from visualizer.cli import main; sys.exit(main(sys.argv[1:]))"
    environment = os.environ | {
        "QT_QPA_PLATFORM": "offscreen",
        "HOME": str(tmp_path),
        "PULSE_SERVER": server.address,
    }
    app = subprocess.Popen(
        [sys.executable, "-c", code, "--models", str(model_dir), "--file", str(beats_file)]
        + ["--log", str(log), "--settings", str(tmp_path / "app.ini")],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: log.exists() and "playing " in log.read_text(), 60, "the file to play")
        wait_for(
            lambda: f"fault (portaudio): {SOUND_SERVER_SILENT}." in log.read_text(),
            10,
            "the panel to say the sound server is silent",
        )
        assert not server.closed_by_guard and app.poll() is None
        app.send_signal(signal.SIGTERM)
        assert app.wait(timeout=30) == 128 + signal.SIGTERM
    finally:
        app.kill()
        server.close()
    text = log.read_text()
    assert "PortAudio, still waiting on the sound server, is left to the system" in text
    assert text.rstrip().endswith("musicscape closed") and "Traceback" not in text
