"""Real audio through a private PulseAudio daemon with a null sink (no sound card needed).

A tone played into the sink is captured from its monitor source by the app's input
stream; a file played by the app comes out of the sink's monitor.
"""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
import soundfile as sf

from visualizer.app.audio_sources import (
    DEFAULT_MONITOR,
    PULSE_DEVICE,
    CaptureSource,
    InputChoice,
    OutputChoice,
    list_inputs,
)
from visualizer.app.sample_ring import SampleRing

from .conftest import RATE
from .onnx_models import MUSIC_LEVEL_DB

TONE_HZ = 1500.0
# The first input stream on PulseAudio delivers its first block after ~2 s.
AUDIO_TIMEOUT_MS = 15_000


@pytest.fixture
def pulse_window(pulse_server, make_window, model_dir):
    return lambda: make_window(model_dir, use_output_device=True)


@pytest.fixture
def tone_player(pulse_server, tmp_path):
    path = tmp_path / "tone.wav"
    t = np.arange(RATE * 30) / RATE
    sf.write(path, (0.5 * np.sin(2 * np.pi * TONE_HZ * t)).astype(np.float32), RATE)
    players = []

    def play():
        players.append(subprocess.Popen(["paplay", str(path)]))

    yield play
    for player in players:
        player.terminate()
        player.wait(timeout=5)


def record_monitor(qtbot, folder, sink: str, rate: int, channels: int) -> np.ndarray:
    """What `sink` plays over 3 s (frames x channels), recorded from its monitor."""
    recording = folder / f"{sink}.raw"  # a file, not a pipe: a full pipe would stall parec
    with open(recording, "wb") as heard:
        record = subprocess.Popen(
            [
                "parec",
                "--raw",
                "--format=float32le",
                f"--channels={channels}",
                f"--rate={rate}",
                "-d",
                f"{sink}.monitor",
            ],
            stdout=heard,
        )
        qtbot.wait(3000)  # the first recording stream delivers after about 2 s
        record.terminate()
        record.wait(timeout=5)
    samples = np.fromfile(recording, dtype=np.float32)
    return samples[: len(samples) // channels * channels].reshape(-1, channels)


def monitor_choice():
    return next(c for c in list_inputs() if c.pulse_source == "musicscape_test.monitor")


def test_inputs_include_the_pulse_monitor_source(pulse_server):
    labels = [choice.label for choice in list_inputs()]
    assert "PulseAudio: monitor of musicscape_test" in labels
    assert "pulse" in labels


def test_tone_into_the_sink_reaches_spectrogram_canvas_and_bars(qtbot, pulse_window, tone_player):
    window = pulse_window()
    assert window.capture_input(monitor_choice())
    assert window.panel.source_label.text() == "input: PulseAudio: monitor of musicscape_test"
    qtbot.waitUntil(lambda: window.ring.written > RATE, timeout=AUDIO_TIMEOUT_MS)
    qtbot.waitUntil(lambda: window.worker.encoder_runs >= 2, timeout=AUDIO_TIMEOUT_MS)
    silent_bars = [bar.value() for bar in window.panel.bars]
    painted = window.canvas.frames_painted
    tone_player()
    layout = window.spectrogram.layout_
    tone_row = layout.row_of_hz(TONE_HZ)

    def tone_on_screen():
        shown = window.spectrogram.shown()
        return shown is not None and int(np.argmax(shown[:, -1])) == tone_row

    def tone_loud():  # near 0 dBFS - 6 dB once a whole STFT window holds the tone
        return window.spectrogram.shown()[tone_row, -1] > 150

    qtbot.waitUntil(tone_on_screen, timeout=AUDIO_TIMEOUT_MS)
    # The first column to show the tone may hold only its onset (part of one window).
    qtbot.waitUntil(tone_loud, timeout=5000)
    assert tone_on_screen()
    qtbot.waitUntil(
        lambda: [bar.value() for bar in window.panel.bars] != silent_bars,
        timeout=AUDIO_TIMEOUT_MS,
    )
    qtbot.waitUntil(lambda: window.canvas.frames_painted > painted + 30, timeout=5000)
    assert window.source.overflows == 0


@pytest.fixture
def other_default_output(pulse_server):
    """A second null sink made the default output; the default source stays the first
    sink's monitor, so only the default output's monitor hears what plays to it."""
    loaded = subprocess.run(
        ["pactl", "load-module", "module-null-sink", "sink_name=musicscape_other"],
        capture_output=True,
        text=True,
        check=True,
    )
    subprocess.run(["pactl", "set-default-sink", "musicscape_other"], check=True)
    subprocess.run(["pactl", "set-default-source", "musicscape_test.monitor"], check=True)
    yield "musicscape_other"
    subprocess.run(["pactl", "set-default-sink", "musicscape_test"], check=True)
    subprocess.run(["pactl", "unload-module", loaded.stdout.strip()], check=True)


def test_what_this_computer_plays_is_captured_from_the_default_output(
    qtbot, pulse_window, other_default_output, tmp_path
):
    choice = next(c for c in list_inputs() if c.pulse_source == DEFAULT_MONITOR)
    labels = [c.label for c in list_inputs() if c.device == PULSE_DEVICE]
    assert labels.index(choice.label) == 1  # after PortAudio's own 'pulse', before each source
    assert choice.label == "PulseAudio: what this computer plays (the default output's monitor)"
    window = pulse_window()
    assert window.capture_input(choice)
    assert window.settings.input_key == "pulse:@DEFAULT_MONITOR@"
    qtbot.waitUntil(lambda: window.ring.written > RATE, timeout=AUDIO_TIMEOUT_MS)
    tone = tmp_path / "tone.wav"
    t = np.arange(RATE * 20) / RATE
    sf.write(tone, (0.5 * np.sin(2 * np.pi * TONE_HZ * t)).astype(np.float32), RATE)
    player = subprocess.Popen(["paplay", "-d", other_default_output, str(tone)])
    try:
        tone_row = window.spectrogram.layout_.row_of_hz(TONE_HZ)
        qtbot.waitUntil(
            lambda: (
                window.spectrogram.shown() is not None
                and int(np.argmax(window.spectrogram.shown()[:, -1])) == tone_row
                and window.spectrogram.shown()[tone_row, -1] > 150
            ),
            timeout=AUDIO_TIMEOUT_MS,
        )
    finally:
        player.terminate()
        player.wait(timeout=5)


def test_lost_input_stream_is_reopened(qtbot, pulse_window):
    window = pulse_window()
    assert window.capture_input(monitor_choice())
    qtbot.waitUntil(lambda: window.ring.written > RATE // 2, timeout=AUDIO_TIMEOUT_MS)
    first = window.source
    first._stream.abort()  # the device stops delivering, as when it is unplugged
    qtbot.waitUntil(
        lambda: window.source is not first and window.source is not None, timeout=AUDIO_TIMEOUT_MS
    )
    # named as the picker listed it (its description), not by its PulseAudio name
    assert window.faults["source"].startswith("Lost input 'PulseAudio: monitor of musicscape_test'")
    written = window.ring.written
    qtbot.waitUntil(lambda: window.ring.written > written + RATE // 2, timeout=AUDIO_TIMEOUT_MS)
    qtbot.waitUntil(lambda: "source" not in window.faults, timeout=5000)


def test_file_plays_through_the_output_device_in_sync(
    qtbot, pulse_window, beats_file, pulse_server
):
    window = pulse_window()
    assert window.play_file(beats_file)
    assert window.source.output_name == "pulse"
    assert window.panel.device_label.text() == "output: pulse, 22,050 Hz mono"
    qtbot.waitUntil(lambda: window.source.position_seconds > 0.5, timeout=AUDIO_TIMEOUT_MS)
    record = subprocess.Popen(
        [
            "parec",
            "--raw",
            "--format=float32le",
            "--channels=1",
            f"--rate={RATE}",
            "-d",
            "musicscape_test.monitor",
        ],
        stdout=subprocess.PIPE,
    )
    qtbot.wait(2500)
    record.terminate()
    heard = np.frombuffer(record.communicate(timeout=5)[0], dtype=np.float32)
    assert len(heard) > RATE // 2
    assert np.sqrt(np.mean(heard[-RATE // 2 :] ** 2)) > 0.05  # the music came out
    qtbot.waitUntil(lambda: len(window.stats.latencies) >= 3, timeout=AUDIO_TIMEOUT_MS)
    latencies_ms = np.array(window.stats.latencies) * 1e3
    # Frames follow the sound as it is heard, never before it; how soon is a figure of
    # `musicscape bench --app` (a loaded machine delays frames), so the bound here is only
    # what a misplaced read of the 8-s ring would break: the picture is of this second.
    assert latencies_ms.min() > -5 and np.median(latencies_ms) < 1000


def test_a_file_plays_at_its_own_rate_in_stereo_while_the_models_hear_it_mono(
    qtbot, pulse_window, tmp_path
):
    """Left 1 kHz, right 15 kHz at 48 kHz: both come out of the sink on their own side
    (15 kHz does not exist at the models' 22,050 Hz); the analysis hears their downmix at
    the models' rate, where 1 kHz is the loudest row and 15 kHz is gone."""
    rate = 48_000
    t = np.arange(rate * 20) / rate
    sides = np.stack([np.sin(2 * np.pi * 1000 * t), np.sin(2 * np.pi * 15_000 * t)], axis=1)
    path = tmp_path / "sides.flac"
    sf.write(path, (0.4 * sides).astype(np.float32), rate)
    window = pulse_window()
    assert window.play_file(path)
    assert window.panel.device_label.text() == "output: pulse, 48,000 Hz stereo"
    assert window.ring.sample_rate == RATE and window.worker.resampler is None
    qtbot.waitUntil(lambda: window.source.position_seconds > 0.5, timeout=AUDIO_TIMEOUT_MS)
    heard = record_monitor(qtbot, tmp_path, "musicscape_test", rate, channels=2)
    last = heard[-rate // 4 :]
    assert len(last) == rate // 4

    def loudest_hz(signal):
        spectrum = np.abs(np.fft.rfft(signal * np.hanning(len(signal))))
        return np.argmax(spectrum) * rate / len(signal)

    assert loudest_hz(last[:, 0]) == pytest.approx(1000, abs=4)  # 4-Hz FFT bins
    assert loudest_hz(last[:, 1]) == pytest.approx(15_000, abs=4)
    assert np.sqrt(np.mean(last**2, axis=0)) == pytest.approx([0.4 / np.sqrt(2)] * 2, rel=0.05)
    row_1k = window.spectrogram.layout_.row_of_hz(1000)

    def downmix_on_screen():
        shown = window.spectrogram.shown()
        return shown is not None and int(np.argmax(shown[:, -1])) == row_1k

    qtbot.waitUntil(downmix_on_screen, timeout=AUDIO_TIMEOUT_MS)


def test_an_input_opened_at_its_own_rate_is_converted_to_the_models_rate(
    qtbot, pulse_server, make_window, model_dir, tone_player, beats_file
):
    window = make_window(model_dir, use_output_device=True, input_rate=44_100)
    assert window.capture_input(monitor_choice())
    assert window.ring.sample_rate == 44_100
    assert window.worker.ring is window.ring and window.worker.resampler is not None
    qtbot.waitUntil(lambda: window.ring.written > 44_100, timeout=AUDIO_TIMEOUT_MS)
    tone_player()
    tone_row = window.spectrogram.layout_.row_of_hz(TONE_HZ)

    def tone_on_screen():  # unconverted, 1500 Hz at 44.1 kHz would show at 750 Hz
        shown = window.spectrogram.shown()
        return shown is not None and int(np.argmax(shown[:, -1])) == tone_row

    qtbot.waitUntil(tone_on_screen, timeout=AUDIO_TIMEOUT_MS)
    assert window.source.overflows == 0
    assert window.play_file(beats_file)  # a file is decoded at the models' rate: no conversion
    assert window.ring.sample_rate == RATE and window.worker.resampler is None


def _devices_in_use(devices: str, streams: str) -> list[str]:
    """The names of the `devices` (sources, sinks) PulseAudio's `streams` (source-outputs,
    sink-inputs) now record from or play to."""
    names = {}
    for line in subprocess.run(
        ["pactl", "list", "short", devices], capture_output=True, text=True, check=True
    ).stdout.splitlines():
        index, name = line.split("\t")[:2]
        names[index] = name
    in_use = subprocess.run(
        ["pactl", "list", "short", streams], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    return [names[line.split("\t")[1]] for line in in_use]


def load_module(*arguments: str) -> str:
    """Load a PulseAudio module into the test daemon; its index, for unload-module."""
    loaded = subprocess.run(
        ["pactl", "load-module", *arguments], capture_output=True, text=True, check=True
    )
    return loaded.stdout.strip()


def _recording_sources() -> list[str]:
    return _devices_in_use("sources", "source-outputs")


def _playing_sinks() -> list[str]:
    return _devices_in_use("sinks", "sink-inputs")


def test_a_monitor_choice_does_not_leak_into_a_later_plain_pulse_input(pulse_server):
    module = load_module("module-null-source", "source_name=musicscape_mic")
    subprocess.run(["pactl", "set-default-source", "musicscape_mic"], check=True)
    ring = SampleRing(RATE, RATE)
    try:
        monitor = CaptureSource(monitor_choice(), ring)
        monitor.start()
        assert _recording_sources() == ["musicscape_test.monitor"]
        monitor.stop()
        plain = CaptureSource(InputChoice(label="pulse", device=PULSE_DEVICE), ring)
        plain.start()
        assert _recording_sources() == ["musicscape_mic"]
        plain.stop()
    finally:
        subprocess.run(["pactl", "set-default-source", "musicscape_test.monitor"], check=True)
        subprocess.run(["pactl", "unload-module", module], check=True)


QUIET_DB = -40.0


@pytest.fixture
def quiet_tone_player(pulse_server, tmp_path):
    """A 1500-Hz tone at QUIET_DB dBFS (a microphone across a room) played into the sink."""
    path = tmp_path / "quiet.wav"
    t = np.arange(RATE * 30) / RATE
    amplitude = 10 ** (QUIET_DB / 20)
    sf.write(path, (amplitude * np.sin(2 * np.pi * TONE_HZ * t)).astype(np.float32), RATE, "FLOAT")
    player = subprocess.Popen(["paplay", str(path)])
    yield player
    player.terminate()
    player.wait(timeout=5)


def test_a_quiet_input_is_brought_to_the_models_music_level_and_the_panel_says_so(
    qtbot, pulse_window, quiet_tone_player
):
    window = pulse_window()
    assert window.panel.auto_level.isChecked()  # on unless the user turned it off
    assert window.capture_input(monitor_choice())
    assert MUSIC_LEVEL_DB - QUIET_DB == 23.0  # the gain that brings the tone to the level
    qtbot.waitUntil(
        lambda: window.panel.level_label.text() == "-40 dBFS, +23 dB auto level",
        timeout=AUDIO_TIMEOUT_MS,
    )
    # The gain follows a running mean of the tone's blocks, the first of which held only
    # part of the tone: 2 s more and it is within 0.1 dB of +23.
    qtbot.wait(2000)
    tone_row = window.spectrogram.layout_.row_of_hz(TONE_HZ)
    levelled_row = int(window.spectrogram.shown()[tone_row, -1])
    window.panel.auto_level.setChecked(False)  # the user turns it off: kept, and applied
    assert not window.settings.auto_level
    qtbot.waitUntil(
        lambda: window.panel.level_label.text() == "-40 dBFS (auto level off)", timeout=5000
    )
    assert window.worker.settings.auto_level is False
    # The analysis heard the tone 23 dB louder than it came: its spectrogram row is that much
    # darker now (0-255 over the front end's 100-dB range: 58.7 steps; 2 steps is 0.8 dB).
    qtbot.waitUntil(
        lambda: abs(levelled_row - int(window.spectrogram.shown()[tone_row, -1]) - 59) <= 2,
        timeout=5000,
    )


def test_an_input_that_reaches_full_scale_is_named_as_clipping(qtbot, pulse_window, tmp_path):
    path = tmp_path / "loud.wav"
    t = np.arange(RATE * 30) / RATE
    sf.write(path, np.sin(2 * np.pi * TONE_HZ * t).astype(np.float32), RATE, "FLOAT")
    player = subprocess.Popen(["paplay", str(path)])
    try:
        window = pulse_window()
        assert window.capture_input(monitor_choice())
        # A full-scale sine reads 0 dBFS; the gain brings it down to the music's level.
        qtbot.waitUntil(
            lambda: (
                window.panel.level_label.text()
                == "0 dBFS, -12 dB auto level; clipping: turn the input down"
            ),
            timeout=AUDIO_TIMEOUT_MS,
        )
    finally:
        player.terminate()
        player.wait(timeout=5)


@pytest.fixture
def second_sink(pulse_server):
    """A second null sink (a venue's interface beside the laptop's own), gone afterwards."""
    module = load_module("module-null-sink", "sink_name=musicscape_second")
    yield "musicscape_second"
    subprocess.run(["pactl", "unload-module", module], check=True)


def test_a_file_plays_through_the_output_picked_and_moves_there_as_it_plays(
    qtbot, pulse_window, beats_file, second_sink, tmp_path
):
    window = pulse_window()
    window.panel.refresh_requested.emit()  # the refresh button: the sink came after the window
    picker = window.panel.output_picker

    def listed() -> list[str]:
        return [picker.itemText(index) for index in range(picker.count())]

    qtbot.waitUntil(lambda: f"PulseAudio: {second_sink}" in listed(), timeout=AUDIO_TIMEOUT_MS)
    labels = listed()
    assert labels[0] == "Default output"
    second = labels.index(f"PulseAudio: {second_sink}")
    assert window.play_file(beats_file)
    qtbot.waitUntil(lambda: _playing_sinks() == ["musicscape_test"], timeout=AUDIO_TIMEOUT_MS)
    qtbot.waitUntil(lambda: window.source.position_seconds > 1.0, timeout=AUDIO_TIMEOUT_MS)
    before = window.source.position_seconds
    picker.setCurrentIndex(second)
    picker.activated.emit(second)  # as picking it does
    assert window.settings.output_key == f"pulse:{second_sink}"
    assert window.panel.device_label.text() == (
        f"output: PulseAudio: {second_sink}, 22,050 Hz mono"
    )
    assert "output" not in window.faults
    assert _playing_sinks() == [second_sink]
    assert window.source.position_seconds >= before  # it goes on, not from the start
    heard = record_monitor(qtbot, tmp_path, second_sink, RATE, channels=1)
    assert np.sqrt(np.mean(heard[-RATE // 2 :] ** 2)) > 0.05  # the music came out there
    picker.activated.emit(0)  # the default output again
    assert window.settings.output_key == ""
    assert _playing_sinks() == ["musicscape_test"]
    assert window.use_output(window.sources.outputs[second - 1])  # as --output does
    assert picker.currentIndex() == second  # the picker shows it
    playback = window.source
    window.panel.refresh_requested.emit()  # the file lets go of its output now ...
    assert playback.output_lost
    qtbot.waitUntil(  # ... and takes the chosen one again with the survey's answer
        lambda: _playing_sinks() == [second_sink], timeout=AUDIO_TIMEOUT_MS
    )
    assert window.source is playback and "source" not in window.faults
    assert picker.currentIndex() == second


def test_an_output_that_cannot_play_leaves_the_default_playing_and_says_so(
    qtbot, pulse_window, beats_file, settings
):
    settings.output_key = "pulse:unplugged_interface"
    window = pulse_window()
    assert window.play_file(beats_file)
    assert window.faults["output"] == (
        "The output 'unplugged_interface' picked before is not connected; playing through "
        "the default output."
    )
    assert window.panel.device_label.text() == "output: pulse, 22,050 Hz mono"
    gone = OutputChoice("PulseAudio: gone", PULSE_DEVICE, pulse_sink="gone")  # listed, then
    assert not window.use_output(gone)  # unplugged before it was picked
    assert window.faults["output"].startswith(
        "The chosen output 'PulseAudio: gone' cannot play (cannot open the output device: "
    )
    assert window.faults["output"].endswith("; playing through the default output.")
    assert _playing_sinks() == ["musicscape_test"]
    qtbot.waitUntil(lambda: window.source.position_seconds > 0.5, timeout=AUDIO_TIMEOUT_MS)
