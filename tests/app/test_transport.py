"""Going back through a file list, and playing or pausing it by a remote's switch
(source_switcher.py's `previous_file` and `set_playing`; Playlist.back)."""

from __future__ import annotations

import random
import time

from PyQt6.QtCore import Qt

from visualizer.app.playlist import Playlist
from visualizer.app.source_switcher import BACK_TO_START_SECONDS

TIMEOUT_MS = 10_000


def test_back_moves_to_the_file_before_and_round_when_looping(tmp_path):
    files = [tmp_path / name for name in ("a.ogg", "b.ogg", "c.ogg")]
    plain = Playlist(files)
    assert plain.back() is None and plain.index == 0  # nothing before the first
    plain.index = 2
    assert plain.back() == files[1] and plain.back() == files[0]
    looping = Playlist(files, loop=True)
    assert looping.back() == files[2] and looping.index == 2
    assert Playlist(files[:1], loop=True).back() is None  # one file: only its start


def test_previous_goes_to_the_start_then_to_the_file_before(qtbot, make_window, model_dir, tracks):
    window = make_window(model_dir)
    assert window.play_playlist(Playlist(tracks))
    assert window.next_file() and window.source.path == tracks[1]
    window.seek(10.0)
    qtbot.waitUntil(lambda: window.source.position_seconds >= 10.0, timeout=TIMEOUT_MS)
    second = window.source
    assert window.previous_file()  # well into the file: back to its start
    assert window.source is second and window.source.position_seconds < BACK_TO_START_SECONDS
    assert window.previous_file()  # within its first seconds: the file before
    assert window.source.path == tracks[0] and window.sources.playlist.index == 0
    assert window.source.position_seconds < 1.0
    assert window.previous_file()  # the first file, not looping: its start
    assert window.source.path == tracks[0]


def test_previous_after_the_list_ended_plays_its_last_file_again(
    qtbot, make_window, model_dir, tracks
):
    window = make_window(model_dir)
    assert window.play_playlist(Playlist(tracks))
    window.sources.playlist.index = 2
    assert window.sources.play_playlist(window.sources.playlist)
    assert not window.next_file()  # the last: the list has ended
    assert window.sources.playlist_ended and not window.sources.file_plays
    assert window.previous_file()
    assert window.source.path == tracks[2] and window.sources.file_plays
    assert not window.sources.playlist_ended


def test_the_play_switch_pauses_plays_and_starts_an_ended_list_again(
    qtbot, make_window, model_dir, tracks
):
    window = make_window(model_dir)
    assert window.play_playlist(Playlist(tracks[:1]))
    sources = window.sources
    sources.set_playing(False)
    assert window.source.paused and window.panel.play_button.text() == "Play"
    sources.set_playing(False)  # a switch: off again stays off (no toggle)
    assert window.source.paused
    sources.set_playing(True)
    assert not window.source.paused and window.panel.play_button.text() == "Pause"
    assert not window.next_file()  # the list of one has ended
    sources.set_playing(False)
    assert sources.playlist_ended
    sources.set_playing(True)  # the list again, from its first file
    assert not sources.playlist_ended and sources.file_plays
    assert window.source.position_seconds < 1.0


def test_the_panel_s_previous_and_next_buttons_step_and_say_when_they_can(
    qtbot, make_window, model_dir, tracks
):
    window = make_window(model_dir)
    panel = window.panel
    assert window.play_playlist(Playlist(tracks[:2]))
    window.watchdog.check(time.perf_counter())  # as the window does four times a second
    assert panel.previous_button.isEnabled() and panel.next_button.isEnabled()
    qtbot.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)
    assert window.source.path == tracks[1]
    window.watchdog.check(time.perf_counter())
    assert not panel.next_button.isEnabled()  # the list's last file: nowhere to go
    qtbot.mouseClick(panel.previous_button, Qt.MouseButton.LeftButton)
    assert window.source.path == tracks[0]
    window.sources.stop()  # nothing plays: neither button goes anywhere
    window.watchdog.check(time.perf_counter())
    assert not panel.previous_button.isEnabled() and not panel.next_button.isEnabled()


def test_shuffle_keeps_the_file_playing_first_and_off_goes_back_to_the_order_given(tmp_path):
    files = [tmp_path / f"{name}.ogg" for name in "abcde"]
    playlist = Playlist(files, deal=random.Random(3))
    playlist.index = 2
    playlist.set_shuffle(True)
    assert playlist.current == files[2] and playlist.index == 0
    assert sorted(playlist.files) == sorted(files) and playlist.files != files
    playlist.advance()
    playing = playlist.current
    playlist.set_shuffle(False)  # back to the order given, at the file playing
    assert playlist.files == files and playlist.current == playing


def test_the_panel_s_loop_and_shuffle_change_the_list_playing_and_the_next_ones(
    qtbot, make_window, model_dir, tracks, settings
):
    window = make_window(model_dir)
    sources, panel = window.sources, window.panel
    assert window.play_playlist(Playlist(tracks))
    assert not panel.list_loop.isChecked() and not panel.list_shuffle.isChecked()
    sources.playlist.index = 2
    assert sources.play_playlist(sources.playlist)  # the last file: nothing follows
    assert window.source.following is None
    panel.list_loop.click()  # loop: the first follows the last, and the list keeps it
    assert sources.playlist.loop and window.source.following == tracks[0]
    assert settings.file_list.loop
    assert window.next_file() and window.source.path == tracks[0]
    panel.list_shuffle.click()
    assert sources.playlist.shuffle and sources.playlist.current == tracks[0]
    assert window.source.following == sources.playlist.files[1]
    panel.list_shuffle.click()
    assert sources.playlist.files == tracks and window.source.following == tracks[1]
    assert sources.play_paths([str(tracks[2])])  # a list opened now takes the loop
    assert sources.playlist.loop and panel.list_loop.isChecked()


def test_one_file_loops_on_from_its_end_once_loop_is_on_and_stops_there_once_off(
    qtbot, make_window, model_dir, tracks
):
    window = make_window(model_dir)
    assert window.play_playlist(Playlist(tracks[:1]))
    playback = window.source
    window.panel.list_loop.click()
    assert playback.loop and window.source is playback  # the same playback, looping now
    window.seek(19.0)
    qtbot.waitUntil(lambda: 0.2 < playback.position_seconds < 1.0, timeout=TIMEOUT_MS)
    assert not playback.finished  # round again, seamlessly
    window.panel.list_loop.click()  # off: this round plays to its end, then the list ends
    assert not playback.loop and playback.position_seconds < 2.0
    window.seek(19.0)
    qtbot.waitUntil(lambda: window.sources.playlist_ended, timeout=TIMEOUT_MS)
    assert window.source is playback
