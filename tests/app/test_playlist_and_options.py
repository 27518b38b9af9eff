"""`--file` sets (files, folders, .m3u), `--loop`, the end of a list, `--list-devices`,
`--input` and the range of every numeric option: real files, real windows, the real command."""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import numpy as np
import pytest

from visualizer.app.audio_sources import InputChoice, OutputChoice
from visualizer.app.command_line import describe_devices, find_device, host_and_port, option_problem
from visualizer.app.playlist import Playlist, PlaylistError
from visualizer.cli import main

from .conftest import RATE, tone_signal, write_ogg

FRAME_TIMEOUT_MS = 10_000


@pytest.fixture
def clips(tmp_path):
    folder = tmp_path / "set"
    folder.mkdir()
    paths = [write_ogg(folder / name, tone_signal(1.5, 440.0)) for name in ("b.ogg", "A.ogg")]
    (folder / "notes.txt").write_text("not audio")
    return folder, paths


def test_a_folder_plays_its_audio_files_by_name(clips):
    folder, (b, a) = clips
    assert Playlist.from_paths([folder]).files == [a, b]


def test_a_library_folder_plays_its_files_then_each_inner_folder_s_by_name(clips, tmp_path):
    """A music folder of artists and albums: the folder's own files, then each folder inside
    it (depth first, by name); hidden files and folders passed over; an album's cue sheet
    gives its file's tracks, a broken one is passed over (its file plays as a file)."""
    folder, (b, a) = clips
    album = folder / "Zed" / "Album 1"
    album.mkdir(parents=True)
    mix = write_ogg(album / "whole.ogg", tone_signal(2.0, 440.0))
    (album / "whole.cue").write_text(
        'FILE "whole.ogg" WAVE\n TRACK 01 AUDIO\n  TITLE "Intro"\n  INDEX 01 00:00:00\n'
        ' TRACK 02 AUDIO\n  TITLE "Outro"\n  INDEX 01 00:01:00\n'
    )
    early = folder / "alpha"
    early.mkdir()
    single = write_ogg(early / "single.ogg", tone_signal(1.0, 440.0))
    (early / "broken.cue").write_text('FILE "gone.ogg" WAVE\n')
    (folder / ".hidden").mkdir()
    write_ogg(folder / ".hidden" / "x.ogg", tone_signal(1.0, 440.0))
    write_ogg(folder / "._b.ogg", tone_signal(1.0, 440.0))  # a Mac's metadata twin
    playlist = Playlist.from_paths([folder])
    assert playlist.files == [a, b, single, mix]
    assert [track.tags.title for track in playlist.cue_tracks[mix]] == ["Intro", "Outro"]
    assert list(playlist.cue_tracks) == [mix]


def test_an_m3u_lists_relative_and_absolute_entries_and_skips_comments(clips, tmp_path):
    folder, (b, a) = clips
    m3u = tmp_path / "show.m3u"
    m3u.write_text(f"#EXTM3U\n#EXTINF:1,B\nset/b.ogg\n\n{a}\n")
    playlist = Playlist.from_paths([m3u, b], loop=True)
    assert playlist.files == [folder / "b.ogg", a, b]
    assert [playlist.advance(), playlist.advance(), playlist.advance()] == [a, b, folder / "b.ogg"]


def test_a_pls_lists_its_file_entries_in_their_numbers_order(clips, tmp_path):
    """Winamp's and internet radio's playlists: `FileN=` in N's order (here written out of
    order, as some tools do), relative entries against the playlist's folder; the titles,
    lengths and counts are the players' own."""
    folder, (b, a) = clips
    pls = tmp_path / "show.pls"
    pls.write_text(
        "[playlist]\nFile2=set/b.ogg\nTitle2=B\nLength2=2\n"
        f"File1={a}\nTitle1=A\nLength1=-1\nNumberOfEntries=2\nVersion=2\n"
    )
    assert Playlist.from_paths([pls]).files == [a, folder / "b.ogg"]


def test_the_end_of_a_list_without_loop_is_none(clips):
    _, (b, a) = clips
    playlist = Playlist.from_paths([a, b])
    assert (playlist.current, playlist.advance(), playlist.advance()) == (a, b, None)
    assert (
        Playlist([a], loop=True).loops_one_file and not Playlist([a, b], loop=True).loops_one_file
    )


def test_shuffle_deals_every_file_once_per_pass_and_never_one_twice_in_a_row():
    files = [Path(f"{name}.ogg") for name in "abcde"]
    playlist = Playlist(files, loop=True, shuffle=True, deal=random.Random(7))
    played = [playlist.current] + [playlist.advance() for _ in range(5 * 40 - 1)]
    passes = [played[start : start + 5] for start in range(0, len(played), 5)]
    assert all(sorted(deal) == files for deal in passes)  # each pass plays every file once
    assert all(first != second for first, second in zip(played, played[1:], strict=False))
    assert len({tuple(deal) for deal in passes}) > 20  # dealt anew each pass, not one order
    assert [path.stem for path in played[:5]] == list("eadbc")  # seed 7's first deal
    once = Playlist(files, shuffle=True, deal=random.Random(7))
    assert [once.current] + [once.advance() for _ in range(5)] == [*played[:5], None]


def test_sets_that_name_nothing_playable_are_refused_by_name(clips, tmp_path):
    folder, _ = clips
    empty = tmp_path / "empty"
    empty.mkdir()
    broken_list = tmp_path / "broken.m3u"
    broken_list.write_text("#EXTM3U\nset/b.ogg\nset/gone.ogg\n")
    radio = tmp_path / "radio.m3u"
    radio.write_text("#EXTM3U\nhttps://radio.example/stream.mp3\n")
    radio_pls = tmp_path / "radio.pls"
    radio_pls.write_text("[playlist]\nFile1=http://radio.example:8000/live\nNumberOfEntries=1\n")
    no_files = tmp_path / "titles.pls"
    no_files.write_text("[playlist]\nTitle1=nothing to play\nNumberOfEntries=0\n")
    stream = "a stream's address, not a file: play it in a player and pick the input 'this "
    cases = {
        tmp_path / "nope.ogg": f"{tmp_path / 'nope.ogg'} does not exist",
        empty: f"the folder {empty} holds no audio file (.wav .flac .ogg",
        broken_list: f"{broken_list}, line 3: set/gone.ogg does not exist",
        radio: f"{radio}, line 2: https://radio.example/stream.mp3 is {stream}",
        radio_pls: f"{radio_pls}, line 2: http://radio.example:8000/live is {stream}",
        no_files: f"the playlist {no_files} lists no file",
    }
    for path, message in cases.items():
        with pytest.raises(PlaylistError) as error:
            Playlist.from_paths([folder, path])
        assert str(error.value).startswith(message)


def _args(**values) -> argparse.Namespace:
    defaults = dict(
        fps=60.0, input_rate=None, scene_memory=None, feel=None, osc_in=None, osc_out=None
    )
    return argparse.Namespace(**{**defaults, **values})


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"fps": 0.0}, "--fps must be 1-240 frames per second, got 0.0"),
        ({"fps": -5.0}, "--fps must be 1-240 frames per second, got -5.0"),
        ({"fps": float("nan")}, "--fps must be 1-240 frames per second, got nan"),
        ({"fps": 1000.0}, "--fps must be 1-240 frames per second, got 1000.0"),
        ({"fps": float("inf")}, "--fps must be 1-240 frames per second, got inf"),
        ({"input_rate": 999}, "--input-rate must be 1000-384000 Hz, got 999"),
        ({"scene_memory": 120.5}, "--scene-memory must be 0-120 seconds, got 120.5"),
        ({"feel": 1.5}, "--feel must be 0-1 (0: off), got 1.5"),
        ({"feel": float("nan")}, "--feel must be 0-1 (0: off), got nan"),
        ({"osc_in": 70000}, "--osc-in must be 0-65535 (a UDP port; 0: any free one), got 70000"),
        (
            {"osc_out": ["localhost"]},
            "--osc-out must be HOST:PORT with a port 1-65535, got 'localhost'",
        ),
        (
            {"osc_out": ["127.0.0.1:9000", "h:0"]},
            "--osc-out must be HOST:PORT with a port 1-65535, got 'h:0'",
        ),
    ],
)
def test_every_numeric_option_out_of_range_is_named(values, message):
    assert option_problem(_args(**values)) == message


def test_numeric_options_in_range_pass():
    assert option_problem(_args(fps=1.0, input_rate=48_000, scene_memory=0.0, osc_in=0)) is None
    assert option_problem(_args(feel=0.0)) is None and option_problem(_args(feel=1.0)) is None
    assert (
        option_problem(
            _args(fps=240.0, scene_memory=120.0, osc_out=["127.0.0.1:9000", "10.0.0.2:7000"])
        )
        is None
    )
    assert host_and_port(":9000") == ("127.0.0.1", 9000)
    assert host_and_port("[::1]:9001") == ("::1", 9001)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--fps", "0"], "musicscape: --fps must be 1-240 frames per second, got 0.0"),
        (["--fps", "nan"], "musicscape: --fps must be 1-240 frames per second, got nan"),
        (["--file", "/no/such/file.ogg"], "musicscape: --file: /no/such/file.ogg does not exist"),
    ],
)
def test_the_command_refuses_before_any_window(argv, message, capsys):
    assert main(argv) == 2
    assert capsys.readouterr().err.strip() == message


INPUTS = [
    InputChoice("default", "default"),
    InputChoice("pulse", "pulse"),
    InputChoice("PulseAudio: test", "pulse", pulse_source="musicscape_test"),
    InputChoice("PulseAudio: monitor of musicscape_test", "pulse", "musicscape_test.monitor"),
]


def test_an_input_is_found_by_index_exact_name_source_name_or_unique_part():
    assert find_device("2", INPUTS) is INPUTS[2]
    assert find_device("pulse", INPUTS) is INPUTS[1]  # exact beats the inputs containing it
    assert find_device("musicscape_test.monitor", INPUTS) is INPUTS[3]
    assert find_device("MONITOR", INPUTS) is INPUTS[3]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("7", "there is no input 7 (this machine has 4: 0-3); `musicscape --list-devices` lists"),
        ("musicscape", "'musicscape' matches 2 inputs (PulseAudio: test; PulseAudio: monitor of"),
        ("USB mixer", "no input matches 'USB mixer'; `musicscape --list-devices` lists them"),
    ],
)
def test_an_input_that_is_not_there_or_ambiguous_is_refused(spec, message):
    with pytest.raises(ValueError) as error:
        find_device(spec, INPUTS)
    assert str(error.value).startswith(message)


OUTPUTS = [
    OutputChoice("default", "default"),
    OutputChoice("pulse", "pulse"),
    OutputChoice("PulseAudio: venue_interface", "pulse", pulse_sink="venue_interface"),
]


def test_an_output_is_found_by_index_exact_name_sink_name_or_unique_part():
    assert find_device("0", OUTPUTS, "output") is OUTPUTS[0]
    assert find_device("venue_interface", OUTPUTS, "output") is OUTPUTS[2]
    assert find_device("VENUE", OUTPUTS, "output") is OUTPUTS[2]
    with pytest.raises(ValueError) as error:
        find_device("3", OUTPUTS, "output")
    assert str(error.value) == (
        "there is no output 3 (this machine has 3: 0-2); `musicscape --list-devices` lists them"
    )
    with pytest.raises(ValueError) as error:
        find_device("hdmi", OUTPUTS, "output")
    assert str(error.value) == "no output matches 'hdmi'; `musicscape --list-devices` lists them"


def test_no_devices_are_described_in_words():
    assert describe_devices([], []) == (
        "No audio input found (files still play; see `musicscape --help`).\n"
        "No audio output found (files play silently in real time)."
    )


def test_list_devices_prints_every_input_and_output_of_the_real_pulse_server(pulse_server, capsys):
    assert main(["--list-devices"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Audio inputs (pass the index or a name to --input):"
    from visualizer.app.audio_sources import list_inputs, list_outputs

    inputs, outputs = list_inputs(), list_outputs()
    assert out == describe_devices(inputs, outputs).splitlines()
    assert out[len(inputs) + 1] == "Audio outputs (pass the index or a name to --output):"
    sink = next(line for line in out if "[PulseAudio sink musicscape_test]" in line)
    assert find_device(sink.split()[0], outputs, "output").pulse_sink == "musicscape_test"
    monitor = next(line for line in out if "[PulseAudio source musicscape_test.monitor]" in line)
    index = int(monitor.split()[0])
    assert find_device(str(index), inputs).pulse_source == "musicscape_test.monitor"
    assert find_device("this computer", inputs).pulse_source == "@DEFAULT_MONITOR@"
    assert main(["--input", "no such input anywhere"]) == 2
    assert capsys.readouterr().err.strip() == (
        "musicscape: --input: no input matches 'no such input anywhere'; "
        "`musicscape --list-devices` lists them"
    )
    assert main(["--input", str(index), "--output", "no such output"]) == 2
    assert capsys.readouterr().err.strip() == (
        "musicscape: --output: no output matches 'no such output'; "
        "`musicscape --list-devices` lists them"
    )


def _wait_for_file(qtbot, window, name: str) -> None:
    qtbot.waitUntil(
        lambda: window.panel.source_label.text() == f"file: {name}", timeout=FRAME_TIMEOUT_MS
    )


def test_the_next_file_plays_at_the_end_and_the_last_says_ended(
    qtbot, make_window, model_dir, clips
):
    folder, _ = clips
    window = make_window(model_dir)
    assert window.play_playlist(Playlist.from_paths([folder]))
    assert window.panel.source_label.text() == "file: A.ogg"
    _wait_for_file(qtbot, window, "b.ogg")
    assert window.settings.file_path == str(folder / "b.ogg")
    qtbot.waitUntil(lambda: window.playlist_ended, timeout=FRAME_TIMEOUT_MS)
    assert window.panel.source_label.text() == "file: b.ogg (ended)"
    assert window.panel.play_button.text() == "Play"
    assert window.source.paused
    window.toggle_pause()  # Play after the end: the list from the start
    assert window.panel.source_label.text() == "file: A.ogg"
    assert not window.playlist_ended and window.panel.play_button.text() == "Pause"


def test_loop_starts_the_list_again_and_n_skips(qtbot, make_window, model_dir, clips):
    folder, _ = clips
    window = make_window(model_dir)
    window.play_playlist(Playlist.from_paths([folder], loop=True))
    assert window.next_file() and window.panel.source_label.text() == "file: b.ogg"
    _wait_for_file(qtbot, window, "A.ogg")  # after the last, the first again
    assert not window.playlist_ended


def test_one_looped_file_plays_on_seamlessly(qtbot, make_window, model_dir, clips):
    _, (b, _) = clips
    window = make_window(model_dir)
    window.play_playlist(Playlist([b], loop=True))
    assert window.source.loop
    qtbot.wait(2500)  # past its 1.5 s
    assert window.source.path == b and not window.playlist_ended


def test_a_file_that_cannot_play_is_skipped(qtbot, make_window, model_dir, clips, tmp_path):
    _, (b, a) = clips
    broken = tmp_path / "broken.ogg"
    broken.write_bytes(b"OggS" + bytes(range(256)) * 4)
    window = make_window(model_dir)
    assert window.play_playlist(Playlist([broken, a]))
    assert window.panel.source_label.text() == "file: A.ogg"
    assert "source" not in window.faults
    assert window.faults["playlist"].startswith(f"Skipped: Cannot play that file: {broken}")


def test_m4a_and_webm_files_are_listed_in_a_folder_and_play_as_they_are(
    qtbot, make_window, model_dir, tmp_path
):
    from tests.frontend.decoder_fuzz import write_container

    folder = tmp_path / "downloads"
    folder.mkdir()
    stereo = np.stack([tone_signal(3.0, 440.0), tone_signal(3.0, 660.0)], axis=1)
    song = write_container(folder / "song.m4a", "mp4", "aac", RATE * 2, stereo, 192_000)
    video = write_container(folder / "video.webm", "webm", "libopus", 48_000, stereo, 96_000)
    assert Playlist.from_paths([folder]).files == [song, video]
    window = make_window(model_dir)
    assert window.play_file(song)
    assert (
        window.panel.device_label.text()
        == "output: none (silent real-time clock), 44,100 Hz stereo"
    )
    painted = window.canvas.frames_painted
    qtbot.waitUntil(lambda: window.canvas.frames_painted > painted + 10, timeout=FRAME_TIMEOUT_MS)
    assert "source" not in window.faults
