"""OSC against the running app (offscreen): a real python-osc client sends commands to the
window's UDP port on loopback, a real python-osc server receives what the window sends."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PyQt6.QtCore import Qt
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_server import ThreadingOSCUDPServer
from pythonosc.udp_client import SimpleUDPClient

from visualizer.app.osc_control import INPUT_ADDRESSES
from visualizer.app.picture_saver import PICTURE_SIZE
from visualizer.app.scene_director import AUTO, BIAS, HOLD, SceneMode
from visualizer.app.stage import mean_colour

from .conftest import tone_signal, write_ogg
from .test_title_cards import tagged_ogg

TIMEOUT_MS = 15_000
BEAT_PERIOD = 0.5  # beats_file has a burst every 0.5 s


class Receiver:
    """A real OSC server on a free loopback port, recording (arrival time, address, args)."""

    def __init__(self):
        dispatcher = Dispatcher()
        dispatcher.set_default_handler(self._on_message)
        self.messages: list[tuple[float, str, tuple]] = []
        self._lock = threading.Lock()
        self.server = ThreadingOSCUDPServer(("127.0.0.1", 0), dispatcher)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _on_message(self, address, *args):
        arrived = time.perf_counter()
        with self._lock:
            self.messages.append((arrived, address, args))

    def of(self, address: str) -> list[tuple[float, tuple]]:
        with self._lock:
            return [(when, args) for when, name, args in self.messages if name == address]

    def newest(self, address: str) -> tuple | None:
        """The arguments of the newest message to `address`; None before the first (a wait
        on a value must not fail while it has not come yet)."""
        sent = self.of(address)
        return sent[-1][1] if sent else None

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def osc_window(make_window, model_dir, receiver):
    window = make_window(model_dir)
    assert window.stage.listen_osc(0)
    assert window.stage.send_osc("127.0.0.1", receiver.port)
    client = SimpleUDPClient("127.0.0.1", window.stage.osc_in.port)
    port, label = window.stage.osc_in.port, window.stage.osc_label.text()
    assert label.startswith(f"in: UDP port {port}; OSCQuery on TCP port {port}, ")
    assert label.endswith(f"; out: 127.0.0.1:{receiver.port}")
    return window, client


def test_a_hold_message_changes_the_scene(qtbot, osc_window, receiver, beats_file):
    window, client = osc_window
    window.play_file(beats_file)
    # the first 4 s: too little music to count a tempo
    qtbot.waitUntil(lambda: window.panel.tempo_label.text() == "listening…", timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: bool(receiver.of("/musicscape/scene")), timeout=TIMEOUT_MS)
    assert receiver.of("/musicscape/scene")[-1][1][1] == AUTO
    client.send_message("/musicscape/hold", "mountain")
    qtbot.waitUntil(
        lambda: window.worker.settings.scene_mode == SceneMode(HOLD, 2), timeout=TIMEOUT_MS
    )
    assert window.settings.scene_mode == HOLD and window.settings.scene_category == "mountain"
    qtbot.waitUntil(
        lambda: receiver.newest("/musicscape/scene") == ("mountain", HOLD), timeout=TIMEOUT_MS
    )
    assert window.panel.mode_box.currentText() == "hold mountain"
    client.send_message("/musicscape/bias", 2)  # by number: 2 = water
    qtbot.waitUntil(
        lambda: window.worker.settings.scene_mode == SceneMode(BIAS, 1), timeout=TIMEOUT_MS
    )
    client.send_message("/musicscape/auto", [])
    qtbot.waitUntil(lambda: window.worker.settings.scene_mode == SceneMode(), timeout=TIMEOUT_MS)
    probabilities = receiver.of("/musicscape/probabilities")[-1][1]
    assert len(probabilities) == 4 and abs(sum(probabilities) - 1.0) < 1e-4
    # the bursts are beats: wait for one (a loaded machine may not have played one yet)
    qtbot.waitUntil(
        lambda: max(args[0] for _, args in receiver.of("/musicscape/onset")) > 0.3,
        timeout=TIMEOUT_MS,
    )
    assert min(args[0] for _, args in receiver.of("/musicscape/onset")) >= 0.0
    colours = [args for _, args in receiver.of("/musicscape/colour")]
    assert colours and all(len(c) == 3 and all(0.0 <= v <= 1.0 for v in c) for c in colours)
    assert max(max(c) for c in colours) > 0.05  # a scene, not black
    moods = [args for _, args in receiver.of("/musicscape/mood")]
    assert moods and all(len(m) == 2 and all(-1.0 <= v <= 1.0 for v in m) for m in moods)
    # a burst every 0.5 s: 120 BPM, once 4 s of the file have been heard (0 until then)
    qtbot.waitUntil(lambda: receiver.of("/musicscape/tempo")[-1][1][0] > 0.0, timeout=15_000)
    tempos = {round(args[0], 1) for _, args in receiver.of("/musicscape/tempo")}
    assert tempos - {0.0} and all(tempo == 0.0 or abs(tempo - 120.0) < 0.5 for tempo in tempos)
    qtbot.waitUntil(lambda: window.panel.tempo_label.text() == "120 BPM", timeout=TIMEOUT_MS)
    assert window.stage.state()["tempo_bpm"] == pytest.approx(120.0, abs=0.5)
    # silence (-120) before the file's first samples, then the meter reads its chord alone
    # (-13.0 dBFS) or with a burst (up to -2.6 dBFS)
    qtbot.waitUntil(lambda: receiver.of("/musicscape/level")[-1][1][0] > -120.0, timeout=TIMEOUT_MS)
    levels = [args[0] for _, args in receiver.of("/musicscape/level")]
    assert all(level == -120.0 or -13.5 < level < -2.0 for level in levels)


def test_the_track_goes_out_as_a_file_starts_and_every_second(
    qtbot, osc_window, receiver, tmp_path
):
    window, _ = osc_window
    music = tagged_ogg(tmp_path / "track07.ogg", "Sands of Time", "Omri Lahav", "0 A.D.")
    window.play_file(music)
    qtbot.waitUntil(lambda: len(receiver.of("/musicscape/track")) >= 3, timeout=TIMEOUT_MS)
    sent = receiver.of("/musicscape/track")
    assert {args for _, args in sent} == {("Sands of Time", "Omri Lahav", "0 A.D.", "track07.ogg")}
    # Sent once a second, not at the figures' 40 Hz (0.025 s apart); times are taken as
    # the messages arrive, which a loaded machine delays by up to tenths of a second.
    gaps = np.diff([when for when, _ in sent])
    assert gaps.min() > 0.5 and gaps.mean() > 0.8, gaps


def test_the_mean_colour_is_read_from_a_grid_of_pixels():
    halves = np.zeros((8, 8, 3), np.uint8)
    halves[:, :4, 0] = 255  # left red, right blue: the grid's columns 0 and 4, one each
    halves[:, 4:, 2] = 255
    assert mean_colour(halves) == (0.5, 0.0, 0.5)
    assert mean_colour(np.full((10, 6, 3), (51, 102, 204), np.uint8)) == (0.2, 0.4, 0.8)


def test_continuous_controls_blackout_and_fullscreen(qtbot, osc_window, receiver, beats_file):
    window, client = osc_window
    window.play_file(beats_file)
    client.send_message("/musicscape/reactivity", 2.5)
    client.send_message("/musicscape/scene_memory", 30.0)
    client.send_message("/musicscape/feel", 0.75)
    client.send_message("/musicscape/crossfade", 6.5)
    client.send_message("/musicscape/master", 0.25)
    client.send_message("/musicscape/blackout_fade", 0.0)
    client.send_message("/musicscape/blackout", 1)
    client.send_message("/musicscape/fullscreen", [])
    qtbot.waitUntil(lambda: window.settings.reactivity == 2.5, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: window.worker.settings.scene_memory_seconds == 30.0, timeout=TIMEOUT_MS)
    assert window.panel.reactivity.value() == 250
    qtbot.waitUntil(lambda: window.worker.settings.feel_strength == 0.75, timeout=TIMEOUT_MS)
    assert window.panel.feel.value() == 75 and window.settings.feel_strength == 0.75
    qtbot.waitUntil(lambda: window.worker.settings.crossfade_seconds == 6.5, timeout=TIMEOUT_MS)
    assert window.panel.crossfade.value() == 6.5 and window.settings.crossfade_seconds == 6.5
    qtbot.waitUntil(lambda: window.stage.level.master == 0.25, timeout=TIMEOUT_MS)
    assert window.stage.master_slider.value() == 25
    qtbot.waitUntil(window.isFullScreen, timeout=TIMEOUT_MS)
    assert window.stage.blackout
    painted = window.canvas.frames_painted
    qtbot.waitUntil(lambda: window.canvas.frames_painted > painted + 2, timeout=TIMEOUT_MS)
    assert not window.canvas.current_pixels().any()  # black
    qtbot.waitUntil(  # and the lights are told so
        lambda: receiver.newest("/musicscape/colour") == (0.0, 0.0, 0.0), timeout=TIMEOUT_MS
    )
    client.send_message("/musicscape/blackout", 0)
    qtbot.waitUntil(lambda: not window.stage.blackout, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: window.canvas.current_pixels().any(), timeout=TIMEOUT_MS)


def test_a_picture_message_saves_the_shown_picture(qtbot, osc_window, beats_file, tmp_path):
    window, client = osc_window
    folder = tmp_path / "pictures"
    folder.mkdir()
    window.stage.record_dir = folder
    window.play_file(beats_file)
    qtbot.waitUntil(lambda: window.canvas.frames_painted > 5, timeout=TIMEOUT_MS)
    client.send_message("/musicscape/picture", [])
    qtbot.waitUntil(
        lambda: window.stage.picture_label.text().startswith("Saved "), timeout=TIMEOUT_MS
    )
    (saved,) = folder.iterdir()
    assert window.stage.picture_label.text() == f"Saved {saved.name}"
    from PIL import Image

    with Image.open(saved) as picture:
        assert picture.size == (PICTURE_SIZE, PICTURE_SIZE) and picture.mode == "RGB"


def test_a_bad_message_is_named_in_the_window_and_changes_nothing(qtbot, osc_window):
    window, client = osc_window
    client.send_message("/musicscape/hold", "forest")
    qtbot.waitUntil(lambda: "remote" in window.faults, timeout=TIMEOUT_MS)
    assert window.faults["remote"] == (
        "OSC /musicscape/hold: expected a category (sky, water, mountain, desert) or its "
        "number 1-4, got ['forest']"
    )
    assert window.settings.scene_mode == AUTO
    client.send_message("/musicscape/fly", 1.0)
    qtbot.waitUntil(
        lambda: window.faults.get("remote") == "unknown OSC address /musicscape/fly",
        timeout=TIMEOUT_MS,
    )
    client.send_message("/musicscape/reactivity", 1.5)  # a good one clears the complaint
    qtbot.waitUntil(lambda: "remote" not in window.faults, timeout=TIMEOUT_MS)
    client.send_message("/musicscape/next", [])  # no file list to go on with: refused
    refusal = (
        "OSC /musicscape/next: no file list plays: next is for files (--file, Open file…, a drop)"
    )
    qtbot.waitUntil(lambda: window.faults.get("remote") == refusal, timeout=TIMEOUT_MS)


def test_show_software_plays_pauses_seeks_and_steps_through_files(
    qtbot, osc_window, receiver, tmp_path
):
    window, client = osc_window
    folder = tmp_path / "set"
    folder.mkdir()
    tracks = [
        write_ogg(folder / f"{number}.ogg", tone_signal(20.0, 220.0 * number)) for number in (1, 2)
    ]
    client.send_message("/musicscape/file", str(folder))  # a folder: its files in turn
    qtbot.waitUntil(lambda: getattr(window.source, "path", None) == tracks[0], timeout=TIMEOUT_MS)
    assert window.sources.playlist.files == tracks
    client.send_message("/musicscape/seek", 12.5)
    qtbot.waitUntil(lambda: window.source.position_seconds >= 12.5, timeout=TIMEOUT_MS)

    def last(name: str) -> tuple:  # what show software heard last on that address
        sent = receiver.of(f"/musicscape/{name}")
        return sent[-1][1] if sent else ()

    qtbot.waitUntil(lambda: last("position")[:1] >= (12.5,), timeout=TIMEOUT_MS)
    assert last("position")[1] == 20.0 and last("position")[0] < 17.0  # where, how long
    client.send_message("/musicscape/play", 0)
    qtbot.waitUntil(lambda: window.source.paused, timeout=TIMEOUT_MS)
    sent = receiver.of("/musicscape/play")
    qtbot.waitUntil(lambda: last("play") == (0.0,), timeout=TIMEOUT_MS)
    client.send_message("/musicscape/play", [])  # none toggles: plays again
    qtbot.waitUntil(lambda: not window.source.paused, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: last("play") == (1.0,), timeout=TIMEOUT_MS)
    assert len(receiver.of("/musicscape/play")) > len(sent)
    client.send_message("/musicscape/next", [])
    qtbot.waitUntil(lambda: window.source.path == tracks[1], timeout=TIMEOUT_MS)
    client.send_message("/musicscape/previous", [])  # in its first seconds: the file before
    qtbot.waitUntil(lambda: window.source.path == tracks[0], timeout=TIMEOUT_MS)
    assert "remote" not in window.faults and "source" not in window.faults
    refusals = {
        ("seek", 30.0): "expected one number 0-20, got 30",
        ("file", "set/1.ogg"): "expected an absolute path (from /), got ['set/1.ogg']",
        ("file", "/nowhere/x.ogg"): "Cannot play that: /nowhere/x.ogg does not exist",
    }
    for (address, value), reason in refusals.items():
        client.send_message(f"/musicscape/{address}", value)
        refusal = f"OSC /musicscape/{address}: {reason}"
        qtbot.waitUntil(
            lambda refusal=refusal: window.faults.get("remote") == refusal, timeout=TIMEOUT_MS
        )
    assert "source" not in window.faults  # the file playing goes on, its line clean
    assert window.source.path == tracks[0] and not window.source.paused


def test_the_readme_s_table_names_every_address_the_app_takes():
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    rows = set(re.findall(r"^\| `/musicscape/(\w+)` \|", readme, flags=re.MULTILINE))
    assert set(INPUT_ADDRESSES) <= rows


def test_a_datagram_python_osc_cannot_read_is_said_not_printed(qtbot, osc_window, capfd):
    """An address that is not UTF-8: python-osc raises UnicodeDecodeError, which its server
    printed as a traceback; now the fault line says so, and OSC goes on."""
    window, client = osc_window
    builder = OscMessageBuilder("/musicscape/master")
    builder.add_arg(0.5)
    unreadable = builder.build().dgram.replace(b"master", b"m\xf4ster")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        sender.sendto(unreadable, ("127.0.0.1", window.stage.osc_in.port))
    qtbot.waitUntil(lambda: "remote" in window.faults, timeout=TIMEOUT_MS)
    assert window.faults["remote"] == "an OSC datagram from 127.0.0.1 could not be read"
    client.send_message("/musicscape/master", 0.5)
    qtbot.waitUntil(lambda: window.stage.level.master == 0.5, timeout=TIMEOUT_MS)
    assert "Traceback" not in capfd.readouterr().err


def test_beats_arrive_with_their_audio_time(qtbot, osc_window, receiver, beats_file):
    """Arrival only (generous timeout); the latency itself is measured by
    `musicscape bench --osc-beats`, which prints it."""
    window, _ = osc_window
    window.play_file(beats_file)
    qtbot.waitUntil(lambda: len(receiver.of("/musicscape/beat")) >= 6, timeout=TIMEOUT_MS)
    beats = receiver.of("/musicscape/beat")
    times = np.array([args[0] for _, args in beats])
    gaps = np.diff(times)
    # One message per burst, half a second apart (a loaded machine may merge none away).
    assert np.all(np.abs(gaps[1:] - BEAT_PERIOD) < 0.05), gaps
    for arrived, (audio_time,) in beats:
        assert audio_time < arrived  # sent after it was heard, on the same clock
        assert arrived - audio_time < 2.0


def test_bench_osc_reports_beat_latency(model_dir, qapp):
    from visualizer.app.osc_bench import run_osc_bench

    report = run_osc_bench(model_dir, 4.0, None)
    assert report["beats"] >= 1  # timing is what the bench prints; here only that it runs
    assert 0 < report["latency_ms_p50"] <= report["latency_ms_p95"] <= report["latency_ms_max"]


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (
            "from visualizer.app.osc_control import OscListener; OscListener(0)",
            "OSC needs the 'vj' extra (python-osc is missing): pip install '.[vj]' or "
            "./install.sh --vj",
        ),
        (
            "from visualizer.app.midi_control import MidiInput; MidiInput()",
            "MIDI needs the 'vj' extra (mido is missing): pip install '.[vj]' or ./install.sh --vj",
        ),
    ],
)
def test_without_the_vj_extra_osc_and_midi_name_it(code, message):
    script = "\n".join(
        [
            "import sys",
            "sys.modules['pythonosc'] = sys.modules['mido'] = None  # as if not installed",
            "try:",
            f"    {code}",
            "except RuntimeError as error:",
            "    print(error)",
        ]
    )
    environment = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=environment
    )
    assert result.stdout.strip() == message, result.stderr


def test_each_control_s_value_goes_back_out_on_its_own_address(qtbot, osc_window, receiver):
    window, client = osc_window

    def last(name: str) -> tuple:
        sent = receiver.of(f"/musicscape/{name}")
        return sent[-1][1] if sent else ()

    expected = {
        "blackout": (0.0,),
        "master": (1.0,),
        "reactivity": (window.settings.reactivity,),
        "record": (0.0,),
        "on_bar": (0.0,),
    }
    qtbot.waitUntil(  # all of them at once (their datagrams may come in any order)
        lambda: {name: last(name) for name in expected} == expected, timeout=TIMEOUT_MS
    )
    assert last("tap") == ()  # a tap is an action, not a state: "tap 1" echoed would tap
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)  # shortcuts need an active window
    qtbot.keyClick(window, Qt.Key.Key_B)  # a change from the keyboard goes out too
    qtbot.waitUntil(lambda: last("blackout") == (1.0,), timeout=TIMEOUT_MS)
    client.send_message("/musicscape/master", 0.25)  # and one from OSC itself, as it took it
    qtbot.waitUntil(lambda: last("master") == (0.25,), timeout=TIMEOUT_MS)
    window.set_reactivity(2.0)  # from the panel
    qtbot.waitUntil(lambda: last("reactivity") == (2.0,), timeout=TIMEOUT_MS)
    sent = len(receiver.of("/musicscape/titles"))
    qtbot.wait(2200)  # unchanged, it is sent again every second (a surface connecting late)
    assert len(receiver.of("/musicscape/titles")) >= sent + 2


def test_each_destination_gets_the_same_messages(qtbot, osc_window, receiver, beats_file):
    """--osc-out given twice: the show's software and a lighting console each get every
    message (the same one added again is not sent twice)."""
    window, _ = osc_window
    console = Receiver()
    try:
        assert window.stage.send_osc("127.0.0.1", console.port)
        assert window.stage.send_osc("127.0.0.1", receiver.port)  # already there
        assert window.stage.osc_label.text().endswith(
            f"; out: 127.0.0.1:{receiver.port}, 127.0.0.1:{console.port}"
        )
        window.play_file(beats_file)
        qtbot.waitUntil(lambda: len(console.of("/musicscape/beat")) >= 3, timeout=TIMEOUT_MS)
        # each receiver's threads may record datagrams out of order: compare as sets
        console_beats = {args for _, args in console.of("/musicscape/beat")}
        qtbot.waitUntil(
            lambda: console_beats <= {args for _, args in receiver.of("/musicscape/beat")},
            timeout=TIMEOUT_MS,
        )
    finally:
        console.close()


def test_the_bands_go_out_as_the_music_has_them(qtbot, osc_window, receiver, tmp_path):
    """A file of a bass (100 Hz) then a hi-hat's range (6 kHz), each a half-scale sine:
    `/musicscape/bands` reads -6.2 dB (-6.02 and the crossover's -0.2 at 100 Hz) in the
    low band while the bass plays, -6.0 in the high band after, the others far below; the
    HTTP state says the same."""
    window, _ = osc_window
    time_axis = np.arange(3 * 22_050) / 22_050
    bass, hiss = (0.5 * np.sin(2 * np.pi * hz * time_axis) for hz in (100.0, 6000.0))
    music = tmp_path / "bass_then_hiss.wav"
    sf.write(music, np.concatenate([bass, hiss]).astype(np.float32), 22_050)
    window.play_file(music)

    def bands() -> tuple:
        return receiver.newest("/musicscape/bands") or (-120.0,) * 3

    qtbot.waitUntil(lambda: bands()[0] > -7.0, timeout=TIMEOUT_MS)
    qtbot.wait(300)  # the meter settled on the bass
    low, mid, high = bands()
    assert low == pytest.approx(-6.24, abs=0.3) and mid < -30 and high < -60
    assert window.stage.state()["bands_db"][0] == pytest.approx(-6.24, abs=0.3)
    qtbot.waitUntil(lambda: bands()[2] > -7.0, timeout=TIMEOUT_MS)
    qtbot.wait(1500)  # the bass's meter falls over 0.3 s
    low, mid, high = bands()
    assert high == pytest.approx(-6.02, abs=0.3) and mid < -30 and low < -60
