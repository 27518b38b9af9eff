"""musicscape as an MPRIS player (visualizer/app/media_keys.py) on a private dbus-daemon
session bus, driven and read by GLib's `gdbus`, as GNOME's media keys and widgets are."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from PyQt6.QtDBus import QDBusConnection

from visualizer.app.media_keys import OBJECT_PATH, SERVICE
from visualizer.app.playlist import Playlist

from .test_cue_sheet import SHEET
from .test_gapless_lists import write_tone
from .test_title_cards import tagged_ogg

TIMEOUT_MS = 10_000
pytestmark = pytest.mark.skipif(
    shutil.which("dbus-daemon") is None or shutil.which("gdbus") is None,
    reason="needs dbus-daemon and gdbus (install.sh --dev installs them)",
)


@pytest.fixture
def app_bus(qapp, bus_address, request):
    name = f"mpris-{request.node.name}"
    yield QDBusConnection.connectToBus(bus_address, name)
    QDBusConnection.disconnectFromBus(name)


def gdbus(qtbot, address: str, *arguments: str) -> str:
    """`gdbus ARGUMENTS` against the private bus; its output. The test's thread serves the
    window's bus connection meanwhile, as the app's event loop does."""
    call = subprocess.Popen(
        ["gdbus", *arguments, "--address", address],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    qtbot.waitUntil(lambda: call.poll() is not None, timeout=TIMEOUT_MS)
    output = call.stdout.read()
    assert call.returncode == 0, output
    return output.strip()


def player_call(qtbot, address, method: str, *arguments: str) -> str:
    return gdbus(
        qtbot, address, "call", "--dest", SERVICE, "--object-path", OBJECT_PATH,
        "--method", f"org.mpris.MediaPlayer2.Player.{method}", *arguments,
    )  # fmt: skip


def get(qtbot, address, interface: str, name: str) -> str:
    return gdbus(
        qtbot, address, "call", "--dest", SERVICE, "--object-path", OBJECT_PATH,
        "--method", "org.freedesktop.DBus.Properties.Get", interface, name,
    )  # fmt: skip


PLAYER = "org.mpris.MediaPlayer2.Player"


def test_the_player_says_what_plays_and_takes_play_pause_seek_and_next(
    qtbot,
    make_window,
    model_dir,
    beats_file,
    tmp_path,
    app_bus,
    bus_address,
):
    window = make_window(model_dir, session_bus=app_bus)
    assert window.media_keys.service == SERVICE
    assert get(qtbot, bus_address, "org.mpris.MediaPlayer2", "Identity") == "(<'musicscape'>,)"
    assert get(qtbot, bus_address, PLAYER, "PlaybackStatus") == "(<'Stopped'>,)"
    second = tmp_path / "second.ogg"
    shutil.copy(beats_file, second)
    assert window.play_playlist(Playlist([beats_file, second]))
    metadata = get(qtbot, bus_address, PLAYER, "Metadata")
    assert "'xesam:title': <'beats.ogg'>" in metadata
    assert "'mpris:length': <int64 30000000>" in metadata  # 30 s, in microseconds
    assert f"'xesam:url': <'{beats_file.as_uri()}'>" in metadata
    assert "'mpris:trackid': <objectpath '/org/musicscape/track/1'>" in metadata
    assert get(qtbot, bus_address, PLAYER, "CanGoNext") == "(<true>,)"
    # the play/pause key
    player_call(qtbot, bus_address, "PlayPause")
    assert window.source.paused
    assert get(qtbot, bus_address, PLAYER, "PlaybackStatus") == "(<'Paused'>,)"
    player_call(qtbot, bus_address, "Play")
    assert not window.source.paused
    # a widget's seek bar: 10 s in, then 5 s on
    player_call(qtbot, bus_address, "SetPosition", "/org/musicscape/track/1", "10000000")
    qtbot.waitUntil(lambda: window.source.position_seconds >= 10.0, timeout=TIMEOUT_MS)
    player_call(qtbot, bus_address, "Seek", "5000000")
    qtbot.waitUntil(lambda: window.source.position_seconds >= 15.0, timeout=TIMEOUT_MS)
    position = get(qtbot, bus_address, PLAYER, "Position")
    assert 15.0 <= int(re.fullmatch(r"\(<int64 (\d+)>,\)", position)[1]) / 1e6 < 20.0
    # the next key: the list's next file, a new track
    player_call(qtbot, bus_address, "Next")
    assert window.source.path == second
    metadata = get(qtbot, bus_address, PLAYER, "Metadata")
    assert "'xesam:title': <'second.ogg'>" in metadata
    assert "objectpath '/org/musicscape/track/2'" in metadata
    assert get(qtbot, bus_address, PLAYER, "CanGoNext") == "(<false>,)"
    # the previous key: in the file's first seconds, the file before (as players do)
    player_call(qtbot, bus_address, "Previous")
    assert window.source.path == beats_file


def test_a_file_gone_on_into_without_a_gap_is_a_new_track(
    qtbot, make_window, model_dir, tmp_path, app_bus, bus_address
):
    first, second = (write_tone(tmp_path / f"{name}.wav", 2.0, 440.0) for name in ("a", "b"))
    window = make_window(model_dir, session_bus=app_bus)
    assert window.play_playlist(Playlist([first, second]))
    playback = window.source
    assert "objectpath '/org/musicscape/track/1'" in get(qtbot, bus_address, PLAYER, "Metadata")
    qtbot.waitUntil(lambda: window.source.path == second, timeout=TIMEOUT_MS)
    assert window.source is playback  # the same playback went on
    metadata = get(qtbot, bus_address, PLAYER, "Metadata")
    assert "'xesam:title': <'b.wav'>" in metadata
    assert "objectpath '/org/musicscape/track/2'" in metadata


def test_each_track_of_a_cue_sheet_is_a_track_and_next_goes_to_the_next(
    qtbot, make_window, model_dir, tmp_path, app_bus, bus_address
):
    write_tone(tmp_path / "mix.wav", 30.0, 440.0)
    (tmp_path / "mix.cue").write_text(SHEET)
    window = make_window(model_dir, session_bus=app_bus)
    assert window.sources.play_paths([str(tmp_path / "mix.cue")])
    metadata = get(qtbot, bus_address, PLAYER, "Metadata")
    assert "'xesam:title': <\"Don't Stop\">" in metadata
    assert "'xesam:album': <'Live at the Docks'>" in metadata
    assert "objectpath '/org/musicscape/track/1'" in metadata
    assert get(qtbot, bus_address, PLAYER, "CanGoNext") == "(<true>,)"
    player_call(qtbot, bus_address, "Next")
    assert window.source.position_seconds == 10.0
    metadata = get(qtbot, bus_address, PLAYER, "Metadata")
    assert "'xesam:title': <'Second Wind'>" in metadata
    assert "'xesam:artist': <['Guest Act']>" in metadata
    assert "objectpath '/org/musicscape/track/2'" in metadata


def test_a_widget_s_repeat_and_shuffle_buttons_set_the_list_s(
    qtbot, make_window, model_dir, tmp_path, app_bus, bus_address
):
    files = [write_tone(tmp_path / f"{name}.wav", 5.0, 440.0) for name in "abc"]
    window = make_window(model_dir, session_bus=app_bus)
    assert window.play_playlist(Playlist(files))
    assert get(qtbot, bus_address, PLAYER, "LoopStatus") == "(<'None'>,)"
    assert get(qtbot, bus_address, PLAYER, "Shuffle") == "(<false>,)"

    def set_property(name: str, value: str) -> None:
        gdbus(
            qtbot, bus_address, "call", "--dest", SERVICE, "--object-path", OBJECT_PATH,
            "--method", "org.freedesktop.DBus.Properties.Set", PLAYER, name, value,
        )  # fmt: skip

    set_property("LoopStatus", "<'Playlist'>")
    assert window.sources.playlist.loop and window.panel.list_loop.isChecked()
    assert get(qtbot, bus_address, PLAYER, "LoopStatus") == "(<'Playlist'>,)"
    set_property("LoopStatus", "<'Track'>")  # not a mode of this app's: nothing changes
    assert window.sources.playlist.loop
    set_property("Shuffle", "<true>")
    assert window.sources.playlist.shuffle and window.panel.list_shuffle.isChecked()
    assert get(qtbot, bus_address, PLAYER, "Shuffle") == "(<true>,)"
    set_property("LoopStatus", "<'None'>")
    assert not window.sources.playlist.loop


def test_a_tagged_file_is_named_by_its_title_artist_and_album(
    qtbot, make_window, model_dir, tmp_path, app_bus, bus_address
):
    music = tagged_ogg(tmp_path / "track07.ogg", "Sands of Time", "Omri Lahav", "0 A.D.")
    window = make_window(model_dir, session_bus=app_bus)
    assert window.play_file(music)
    metadata = get(qtbot, bus_address, PLAYER, "Metadata")
    assert "'xesam:title': <'Sands of Time'>" in metadata
    assert "'xesam:artist': <['Omri Lahav']>" in metadata
    assert "'xesam:album': <'0 A.D.'>" in metadata


def test_changes_are_announced_as_desktop_widgets_expect(
    qtbot,
    make_window,
    model_dir,
    beats_file,
    app_bus,
    bus_address,
):
    window = make_window(model_dir, session_bus=app_bus)
    monitor = subprocess.Popen(
        ["gdbus", "monitor", "--address", bus_address, "--dest", SERVICE],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        qtbot.wait(500)  # the monitor subscribes
        assert window.play_file(beats_file)
        window.media_keys.refresh()  # as the window's health check does, four times a second
        window.toggle_pause()
        window.media_keys.refresh()
        window.media_keys.seek_to(3_000_000)
        qtbot.wait(500)
    finally:
        monitor.terminate()
    signals = monitor.communicate(timeout=5)[0]
    changes = [line for line in signals.splitlines() if "PropertiesChanged" in line]
    # (the window's own health check may have told the state before the file first)
    playing, paused = changes[-2:]
    assert "'PlaybackStatus': <'Playing'>" in playing and "'xesam:title'" in playing
    assert "'mpris:length': <int64 30000000>" in playing
    assert paused.endswith("{'PlaybackStatus': <'Paused'>}, @as [])"), paused  # only what changed
    assert "org.mpris.MediaPlayer2.Player.Seeked (int64 3000000,)" in signals


def test_a_file_uri_from_the_desktop_plays(
    qtbot,
    make_window,
    model_dir,
    beats_file,
    app_bus,
    bus_address,
):
    window = make_window(model_dir, session_bus=app_bus)
    gdbus(
        qtbot, bus_address, "call", "--dest", SERVICE, "--object-path", OBJECT_PATH,
        "--method", f"{PLAYER}.OpenUri", beats_file.as_uri(),
    )  # fmt: skip
    assert window.source.path == beats_file
    assert get(qtbot, bus_address, PLAYER, "CanPause") == "(<true>,)"


def test_closing_leaves_the_bus_and_unlinks_the_bus_from_the_player(
    qtbot, make_window, model_dir, app_bus, bus_address
):
    """Closed, the player's name and object leave the bus, and so does the link Qt's bus
    connection keeps to the object it served (its `destroyed` signal): left in place, the
    connection's end calls into the Python object from Qt's D-Bus thread (a deadlock seen
    1 run in 5)."""
    window = make_window(model_dir, session_bus=app_bus)
    media_keys = window.media_keys
    names = "--method", "org.freedesktop.DBus.ListNames"
    bus_names = "call", "--dest", "org.freedesktop.DBus", "--object-path", "/org/freedesktop/DBus"
    assert f"'{SERVICE}'" in gdbus(qtbot, bus_address, *bus_names, *names)
    assert media_keys.receivers(media_keys.destroyed) == 1  # the bus connection's link
    media_keys.close()
    assert media_keys.service is None
    assert media_keys.receivers(media_keys.destroyed) == 0
    assert f"'{SERVICE}'" not in gdbus(qtbot, bus_address, *bus_names, *names)


def test_without_a_session_bus_nothing_is_served(make_window, model_dir, qapp):
    nowhere = QDBusConnection.connectToBus("unix:path=/nonexistent", "no-mpris")
    window = make_window(model_dir, session_bus=nowhere)
    assert window.media_keys.service is None
    assert window.media_keys.status == "no media keys: no D-Bus session bus"
    window.media_keys.refresh()  # nothing to tell, and no complaint
    QDBusConnection.disconnectFromBus("no-mpris")
