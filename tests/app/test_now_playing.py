"""What another desktop player plays, for a captured input (visualizer/app/now_playing.py):
on a private dbus-daemon session bus, the other player is a second musicscape, a real MPRIS
player, playing a tagged file into the PulseAudio null sink whose monitor the window under
test captures, as a streaming app plays into a system-audio monitor."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from PyQt6.QtDBus import QDBusConnection

from visualizer.app.now_playing import PlayerTrack, metadata_tags, player_name
from visualizer.app.scene_director import HOLD, SceneMode
from visualizer.frontend.decode import TrackTags

from .test_app_pulse import monitor_choice
from .test_title_cards import tagged_ogg

TIMEOUT_MS = 20_000  # the other player starts as a new process: its imports take seconds
pytestmark = pytest.mark.skipif(
    shutil.which("dbus-daemon") is None, reason="needs dbus-daemon (install.sh --dev)"
)


def test_a_player_is_named_without_the_instance_it_adds():
    assert player_name("org.mpris.MediaPlayer2.spotify") == "spotify"
    assert player_name("org.mpris.MediaPlayer2.firefox.instance_1_84") == "firefox"
    assert player_name("org.mpris.MediaPlayer2.musicscape.instance4242") == "musicscape"


def test_mpris_metadata_becomes_a_tracks_tags():
    assert metadata_tags(
        {"xesam:title": "Dune\nSea", "xesam:artist": ["A", "B"], "xesam:album": "Sands"}
    ) == TrackTags("Dune Sea", "A, B", "Sands")
    assert metadata_tags({"xesam:title": "Dune", "xesam:artist": "Solo"}) == TrackTags(
        "Dune", "Solo", ""
    )
    assert metadata_tags({"mpris:trackid": "/t/1"}) == TrackTags()


@pytest.fixture
def app_bus(qapp, bus_address, request):
    name = f"now-playing-{request.node.name}"
    yield QDBusConnection.connectToBus(bus_address, name)
    QDBusConnection.disconnectFromBus(name)


@pytest.fixture
def other_player(bus_address, pulse_server, tmp_path):
    """Starts a second musicscape on the private bus playing a file to the null sink."""
    players = []

    def start(path):
        env = dict(
            os.environ,
            DBUS_SESSION_BUS_ADDRESS=bus_address,
            QT_QPA_PLATFORM="offscreen",
            HOME=str(tmp_path / "other-home"),
        )
        player = subprocess.Popen(
            [sys.executable, "-m", "visualizer.cli", "--settings", str(tmp_path / "other.ini"),
             "--file", str(path), "--loop"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        players.append(player)
        return player

    yield start
    for player in players:
        player.terminate()
        player.wait(timeout=20)


def test_a_track_another_player_plays_into_the_input_is_named_and_keeps_its_scene(
    qtbot, make_window, model_dir, app_bus, other_player, tmp_path
):
    window = make_window(model_dir, use_output_device=True, session_bus=app_bus)
    assert window.capture_input(monitor_choice())
    qtbot.wait(2500)  # two polls: the window's own player (itself) is never the track
    assert window.now_playing.track is None

    song = tagged_ogg(tmp_path / "song.ogg", "Sands of Time", "Omri Lahav", "0 A.D.")
    player = other_player(song)
    expected = PlayerTrack("musicscape", TrackTags("Sands of Time", "Omri Lahav", "0 A.D."))
    qtbot.waitUntil(lambda: window.now_playing.track == expected, timeout=TIMEOUT_MS)
    qtbot.waitUntil(
        lambda: window.canvas.title_showing() == ("Sands of Time", "Omri Lahav · 0 A.D."),
        timeout=TIMEOUT_MS,
    )
    source = window.panel.source_label.text().splitlines()
    assert source[1] == "Sands of Time — Omri Lahav (musicscape)"
    assert window.windowTitle() == "Sands of Time — Omri Lahav — musicscape"
    assert window.stage.state()["track"] == {  # as the HTTP remote and OSC /track give it
        "file": "",
        "title": "Sands of Time",
        "artist": "Omri Lahav",
        "album": "0 A.D.",
        "player": "musicscape",
        "scene_remembered": False,
    }

    window.set_scene(HOLD, 1)  # the listener's correction: kept for the track, by its tags
    assert window.controls.remembered_scene_runs
    window.set_auto_mode()  # ... and forgotten by auto, as a file's is
    assert not window.controls.remembered_scene_runs
    window.set_scene(HOLD, 1)

    player.terminate()
    player.wait(timeout=20)
    qtbot.waitUntil(lambda: window.now_playing.track is None, timeout=TIMEOUT_MS)
    assert window.panel.source_label.text() == window.source.description
    assert "track" not in window.stage.state()
    assert not window.controls.remembered_scene_runs
    window.set_auto_mode()  # no track plays: nothing is forgotten

    copy = tmp_path / "elsewhere.ogg"
    copy.write_bytes(song.read_bytes())
    assert window.play_file(copy)  # the same track from a file: its scene from the stream
    qtbot.waitUntil(
        lambda: window.worker.settings.scene_mode == SceneMode(HOLD, 1), timeout=TIMEOUT_MS
    )
    assert window.controls.remembered_scene_runs
