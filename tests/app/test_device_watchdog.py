"""The device watchdog (and the source picker's refresh), by fault injection with a real
PulseAudio daemon: killed (SIGKILL, as a crash) and started again on the same socket while
the app captures or plays, and started only after the app. The app says what happened and
carries on by itself once the server is back; a file keeps its position meanwhile and Space
and seeking still work."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
from PyQt6.QtCore import Qt

from visualizer.app.app_settings import SOURCE_FILE, SOURCE_INPUT
from visualizer.app.audio_sources import (
    DEFAULT_MONITOR,
    SILENT_CLOCK_NAME,
    WHAT_THIS_COMPUTER_PLAYS,
    CaptureSource,
    FilePlayback,
    input_label,
    list_inputs,
)

from .conftest import (
    RATE,
    beats_signal,
    pulse_clients_use,
    reinitialise_portaudio,
    start_pulse_daemon,
    write_ogg,
)

AUDIO_TIMEOUT_MS = 15_000
MONITOR = "PulseAudio: monitor of musicscape_test"


def test_a_remembered_input_is_named_as_the_picker_names_it():
    assert input_label(f"pulse:{DEFAULT_MONITOR}") == f"PulseAudio: {WHAT_THIS_COMPUTER_PLAYS}"
    assert input_label("pulse:alsa_input.usb-mic") == "PulseAudio: alsa_input.usb-mic"
    assert input_label("device:USB Mixer: Audio (hw:2,0)") == "USB Mixer: Audio (hw:2,0)"


class RestartablePulse:
    def __init__(self, directory):
        self.directory = directory
        self.daemon: subprocess.Popen | None = None

    def start(self) -> None:
        self.daemon = start_pulse_daemon(self.directory)

    def start_before_the_app(self) -> None:
        self.start()
        reinitialise_portaudio()  # as PortAudio initialising in an app started after the server

    def kill(self) -> None:
        if self.daemon is not None:
            self.daemon.kill()
            self.daemon.wait()
            self.daemon = None


@pytest.fixture
def pulse(tmp_path_factory):
    """A PulseAudio server that is not running yet; clients point at its socket."""
    server = RestartablePulse(tmp_path_factory.mktemp("pa"))
    with pulse_clients_use(server.directory / "native"):
        try:
            yield server
        finally:
            server.kill()


def picker_labels(window) -> list[str]:
    picker = window.panel.source_picker
    return [picker.itemText(index) for index in range(picker.count())]


def heard_rms(seconds: float) -> float:
    """The RMS of what the null sink plays over the next `seconds`."""
    record = subprocess.Popen(
        ["parec", "--raw", "--format=float32le", "--channels=1", f"--rate={RATE}"]
        + ["-d", "musicscape_test.monitor"],
        stdout=subprocess.PIPE,
    )
    try:
        record.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        record.terminate()
    heard = np.frombuffer(record.communicate(timeout=5)[0], dtype=np.float32)
    return float(np.sqrt(np.mean(heard[-RATE // 2 :] ** 2))) if len(heard) > RATE // 2 else 0.0


@pytest.mark.slow  # ~10 s end to end
def test_capture_carries_on_after_pulseaudio_is_killed_and_restarted(
    qtbot, pulse, make_window, model_dir
):
    pulse.start_before_the_app()
    window = make_window(model_dir, use_output_device=True)
    choice = next(c for c in list_inputs() if c.label == MONITOR)
    assert window.capture_input(choice)
    qtbot.waitUntil(lambda: window.ring.written > RATE // 2, timeout=AUDIO_TIMEOUT_MS)
    pulse.kill()
    qtbot.waitUntil(
        lambda: window.faults.get("source", "").startswith(
            "Lost input 'PulseAudio: monitor of musicscape_test'"
        ),
        timeout=AUDIO_TIMEOUT_MS,
    )
    qtbot.waitUntil(  # once the device survey's answer is in: as it was listed, named alike
        lambda: (
            window.panel.source_picker.currentText()
            == "PulseAudio: monitor of musicscape_test (not there now)"
        ),
        timeout=AUDIO_TIMEOUT_MS,
    )
    pulse.start()
    qtbot.waitUntil(lambda: "source" not in window.faults, timeout=AUDIO_TIMEOUT_MS)
    written = window.ring.written
    qtbot.waitUntil(lambda: window.ring.written > written + RATE // 2, timeout=AUDIO_TIMEOUT_MS)
    assert isinstance(window.source, CaptureSource) and window.source.choice.label == MONITOR
    assert window.panel.source_picker.currentText() == MONITOR


@pytest.mark.slow  # ~10 s end to end
def test_a_file_is_held_while_pulseaudio_is_down_and_plays_on_from_there(
    qtbot, pulse, make_window, model_dir, beats_file
):
    pulse.start_before_the_app()
    window = make_window(model_dir, use_output_device=True)
    assert window.play_file(beats_file)
    playback = window.source
    assert playback.output_name == "pulse"
    qtbot.waitUntil(lambda: playback.position_seconds > 1.0, timeout=AUDIO_TIMEOUT_MS)
    pulse.kill()
    qtbot.waitUntil(lambda: playback.output_lost, timeout=AUDIO_TIMEOUT_MS)
    held = playback.position_seconds
    minutes, seconds = divmod(int(held), 60)
    qtbot.waitUntil(
        lambda: window.faults.get("source", "").startswith(
            f"Lost the output device 'pulse': the file is held at {minutes}:{seconds:02d} "
            "and goes on when the device is back"
        ),
        timeout=AUDIO_TIMEOUT_MS,
    )
    qtbot.wait(1500)  # retries come and go; nothing plays
    assert playback.position_seconds == held
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert playback.paused and window.panel.play_button.text() == "Play"
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert not playback.paused and window.panel.play_button.text() == "Pause"
    qtbot.keyClick(window, Qt.Key.Key_Right)  # 5 s on
    qtbot.waitUntil(
        lambda: abs(playback.position_seconds - (held + 5.0)) < 1.0 / RATE,
        timeout=AUDIO_TIMEOUT_MS,
    )
    qtbot.wait(600)
    assert abs(playback.position_seconds - (held + 5.0)) < 1.0 / RATE
    pulse.start()
    qtbot.waitUntil(lambda: "source" not in window.faults, timeout=AUDIO_TIMEOUT_MS)
    assert window.source is playback and not playback.output_lost
    qtbot.waitUntil(lambda: playback.position_seconds > held + 5.5, timeout=AUDIO_TIMEOUT_MS)
    assert heard_rms(1.5) > 0.05  # the music comes out again


def test_a_file_started_while_pulseaudio_is_down_moves_to_it_once_it_is_up(
    qtbot, pulse, make_window, model_dir, beats_file
):
    window = make_window(model_dir, use_output_device=True)
    assert window.play_file(beats_file)
    playback = window.source
    assert playback.on_silent_clock and playback.output_name == SILENT_CLOCK_NAME
    qtbot.waitUntil(
        lambda: (
            window.faults.get("source")
            == (
                "No output device: files play silently in real time and move to the output "
                "device once one appears."
            )
        ),
        timeout=AUDIO_TIMEOUT_MS,
    )
    qtbot.waitUntil(lambda: playback.position_seconds > 1.0, timeout=AUDIO_TIMEOUT_MS)
    pulse.start()
    up = playback.position_seconds
    qtbot.waitUntil(lambda: "source" not in window.faults, timeout=AUDIO_TIMEOUT_MS)
    assert window.source is playback and playback.uses_device and not playback.on_silent_clock
    assert playback.output_name == "pulse"
    assert playback.position_seconds >= up  # it went on from where the clock was
    qtbot.waitUntil(lambda: playback.position_seconds > up + 1.0, timeout=AUDIO_TIMEOUT_MS)
    assert heard_rms(1.5) > 0.05  # and the music comes out


def test_started_while_pulseaudio_is_down_the_remembered_input_is_found_once_it_is_up(
    qtbot, pulse, make_window, model_dir, settings
):
    settings.source_kind = SOURCE_INPUT
    settings.input_key = "pulse:musicscape_test.monitor"
    window = make_window(model_dir, use_output_device=True)
    assert window.faults["source"] == (
        "The remembered input 'PulseAudio: musicscape_test.monitor' is not connected; waiting "
        "for it (or pick another input)."
    )
    # shown as what it is (not as the demo, the picker's first entry) while it is looked for
    assert picker_labels(window) == [
        "Demo clip",
        "File…",
        "PulseAudio: musicscape_test.monitor (not there now)",
    ]
    assert window.panel.source_picker.currentIndex() == 2
    pulse.start()
    qtbot.waitUntil(lambda: isinstance(window.source, CaptureSource), timeout=AUDIO_TIMEOUT_MS)
    assert window.source.choice.label == MONITOR
    written = window.ring.written
    qtbot.waitUntil(lambda: window.ring.written > written + RATE // 2, timeout=AUDIO_TIMEOUT_MS)
    qtbot.waitUntil(lambda: "source" not in window.faults, timeout=AUDIO_TIMEOUT_MS)
    assert MONITOR in picker_labels(window)
    assert window.panel.source_picker.currentText() == MONITOR


def test_refresh_lists_the_inputs_of_a_sound_server_started_after_the_app(
    qtbot, pulse, make_window, model_dir, beats_file
):
    window = make_window(model_dir, use_output_device=True)
    assert picker_labels(window) == ["Demo clip", "File…"]
    assert window.faults["inputs"] == "No audio input device found; files still play."
    pulse.start()
    window.panel.refresh_requested.emit()  # looked for on a thread: the window goes on
    qtbot.waitUntil(lambda: MONITOR in picker_labels(window), timeout=AUDIO_TIMEOUT_MS)
    assert "inputs" not in window.faults
    choice = next(c for c in window.sources.inputs if c.label == MONITOR)
    assert window.capture_input(choice)
    qtbot.waitUntil(lambda: window.ring.written > RATE // 2, timeout=AUDIO_TIMEOUT_MS)
    window.panel.refresh_requested.emit()  # the input lets go of its device now ...
    assert window.source is None
    qtbot.waitUntil(  # ... and takes it again with the survey's answer
        lambda: isinstance(window.source, CaptureSource), timeout=AUDIO_TIMEOUT_MS
    )
    written = window.ring.written
    qtbot.waitUntil(lambda: window.ring.written > written + RATE // 2, timeout=AUDIO_TIMEOUT_MS)
    assert window.source.choice == choice and window.faults == {}
    window.panel.refresh_requested.emit()
    assert window.play_file(beats_file)  # the show moves on while PortAudio looks
    qtbot.waitUntil(  # the file keeps the window (its output opened again if refused)
        lambda: (
            not window.watchdog.surveying
            and isinstance(window.source, FilePlayback)
            and window.source.output_name == "pulse"
            and not window.source.output_lost
        ),
        timeout=AUDIO_TIMEOUT_MS,
    )
    assert window.settings.source_kind == SOURCE_FILE


def test_a_list_on_the_silent_clock_says_so_once_not_at_every_file(
    qtbot, pulse, make_window, model_dir, tmp_path, show_log
):
    """No sound server: a list of files plays on the silent clock. Its fault line stays as
    the next file starts (it had been cleared and said again for each, two lines in the
    show's log per track of a long show)."""
    clips = [write_ogg(tmp_path / f"clip{index}.ogg", beats_signal(1.5)) for index in (1, 2)]
    window = make_window(model_dir, use_output_device=True, show_log=show_log)
    assert window.sources.play_paths([str(clip) for clip in clips])
    silent = "No output device: files play silently in real time and move to the output device"
    qtbot.waitUntil(lambda: window.faults.get("source", "").startswith(silent), timeout=5000)
    qtbot.waitUntil(lambda: window.source.path == clips[1], timeout=AUDIO_TIMEOUT_MS)
    qtbot.wait(1000)  # the watchdog has looked at the second file
    assert window.faults["source"].startswith(silent)
    logged = show_log.path.read_text()
    after = logged[logged.index(f"fault (source): {silent}") :]
    assert after.count("fault (source)") == 1 and f"playing {clips[1]}" in after
