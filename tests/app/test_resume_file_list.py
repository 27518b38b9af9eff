"""A file list goes on where it stood: after the app closes (or crashes) and starts again,
and after another source was picked and the file picked back (source_switcher.py)."""

from __future__ import annotations

import random
from pathlib import Path

from visualizer.app.playlist import Playlist
from visualizer.app.source_switcher import PLACE_STEP_SECONDS

from .conftest import tone_signal, write_ogg

TIMEOUT_MS = 10_000


def test_the_next_start_goes_on_with_the_list_at_its_file_and_place(
    qtbot, make_window, model_dir, tracks, settings, show_log
):
    window = make_window(model_dir, show_log=show_log)
    assert window.play_playlist(Playlist(tracks))
    assert window.sources.next_file()  # the second track
    window.seek(12.0)
    qtbot.waitUntil(lambda: window.source.position_seconds > 12.0, timeout=TIMEOUT_MS)
    window.shutdown()  # the app closes: the place is kept as it stops
    kept = settings.file_seconds
    assert 12.0 < kept < 14.0 and settings.file_list_index == 1

    again = make_window(model_dir, show_log=show_log)  # the next start, same settings
    assert again.source.path == tracks[1]
    qtbot.waitUntil(lambda: again.source.position_seconds >= kept, timeout=TIMEOUT_MS)
    assert again.source.position_seconds < kept + 1.0  # from its place, not its start
    assert again.sources.playlist.files == tracks and again.sources.playlist.index == 1
    assert (
        show_log.path.read_text().count(
            "went on with the file list where it stood: file 2 of 3, from 0:12"
        )
        == 1
    )
    assert again.sources.next_file() and again.source.path == tracks[2]  # the list goes on


def test_the_place_is_kept_as_the_file_plays_so_a_crash_loses_at_most_a_step(
    qtbot, make_window, model_dir, tracks, settings
):
    window = make_window(model_dir)
    assert window.play_playlist(Playlist(tracks))
    assert settings.file_seconds == 0.0
    window.seek(10.0)  # 10 s on from the place kept: the next look keeps it
    qtbot.waitUntil(lambda: settings.file_seconds >= 10.0, timeout=TIMEOUT_MS)
    assert settings.file_seconds < 10.0 + PLACE_STEP_SECONDS
    window.seek(11.0)  # less than a step on: not written at every look
    qtbot.wait(600)
    assert settings.file_seconds < 11.0


def test_a_shuffled_looping_list_goes_on_in_the_order_it_was_dealt(
    qtbot, make_window, model_dir, tracks, settings
):
    window = make_window(model_dir)
    dealt = Playlist(tracks, loop=True, shuffle=True, deal=random.Random(7))
    order = list(dealt.files)
    assert window.play_playlist(dealt)
    window.shutdown()
    kept = settings.file_list
    assert kept.files == order and kept.loop and kept.shuffle and kept.index == 0
    again = make_window(model_dir)
    assert again.source.path == order[0] and again.sources.playlist.files == order


def test_a_list_that_ended_starts_again_from_its_first_file(
    qtbot, make_window, model_dir, tmp_path, settings
):
    short = [
        write_ogg(tmp_path / f"short{number}.ogg", tone_signal(1.0, 330.0)) for number in (1, 2)
    ]
    window = make_window(model_dir)
    assert window.play_playlist(Playlist(short))
    qtbot.waitUntil(lambda: window.sources.playlist_ended, timeout=TIMEOUT_MS)
    window.shutdown()
    assert (settings.file_list_index, settings.file_seconds) == (0, 0.0)
    again = make_window(model_dir)
    assert again.source.path == short[0] and not again.sources.playlist_ended


def test_a_kept_file_that_is_gone_is_skipped_and_named(
    qtbot, make_window, model_dir, tracks, settings
):
    window = make_window(model_dir)
    assert window.play_playlist(Playlist(tracks))
    window.seek(8.0)
    qtbot.waitUntil(lambda: window.source.position_seconds > 8.0, timeout=TIMEOUT_MS)
    window.shutdown()
    tracks[0].unlink()  # moved away between two shows
    again = make_window(model_dir)
    assert again.source.path == tracks[1]
    assert again.source.position_seconds < 2.0  # another file: from its start
    assert again.faults["playlist"].startswith(f"Skipped: Cannot play that file: {tracks[0]}")


def test_damaged_or_missing_kept_lists_are_none(settings):
    assert settings.file_list is None  # never kept
    for damaged in ("", "not json", "[1, 2]", '{"files": []}', '{"files": [1], "loop": 0}'):
        settings.store.setValue("source/list", damaged)
        assert settings.file_list is None, damaged
    settings.store.setValue("source/file_seconds", "nan")
    assert settings.file_seconds == 0.0
    settings.file_list = Playlist.resumed([Path("a.ogg"), Path("b.ogg")], 5, True, False)
    kept = settings.file_list  # relative files kept absolute; the index kept inside the list
    assert kept.files == [Path("a.ogg").absolute(), Path("b.ogg").absolute()]
    assert (kept.index, kept.loop, kept.shuffle) == (1, True, False)


def test_picking_the_file_again_after_another_source_goes_back_to_its_place(
    qtbot, make_window, model_dir, tracks, tmp_path
):
    demo = tmp_path / "demo clips"
    demo.mkdir()
    write_ogg(demo / "demo.ogg", tone_signal(5.0, 550.0))
    window = make_window(model_dir, demo_dir=demo)
    assert window.play_playlist(Playlist(tracks))
    assert window.sources.next_file()
    window.seek(9.0)
    qtbot.waitUntil(lambda: window.source.position_seconds > 9.0, timeout=TIMEOUT_MS)
    window.sources.on_source_chosen(0)  # the demo: the list stops where it stood
    assert window.source.path == demo / "demo.ogg"
    window.sources.on_source_chosen(1)  # the picker's File entry: the list, from its place
    assert window.source.path == tracks[1] and window.sources.playlist.index == 1
    qtbot.waitUntil(lambda: window.source.position_seconds > 9.0, timeout=TIMEOUT_MS)
    assert window.source.position_seconds < 11.0
