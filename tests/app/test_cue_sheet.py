"""Cue sheets (cue_sheet.py): an album or DJ mix in one file, its tracks named as they
play, and next and previous stepping through them (source_switcher.py)."""

from __future__ import annotations

import re

import numpy as np
import pytest
import soundfile as sf

from tests.frontend.marked_files import (
    write_flac_with_cuesheet_block,
    write_with_chapters,
    write_with_cuesheet_tag,
)
from visualizer.app.cue_sheet import (
    CUE_FRAMES_PER_SECOND,
    CueSheetError,
    read_cue_sheet,
    read_embedded_cue_sheet,
    tracks_in_file,
)
from visualizer.app.playlist import Playlist, PlaylistError
from visualizer.frontend.decode import TrackTags

from .conftest import RATE, tone_signal

TIMEOUT_MS = 10_000

SHEET = """REM GENRE Electronic
REM DATE 2026
PERFORMER "DJ Someone"
TITLE "Live at the Docks"
FILE "mix.wav" WAVE
  TRACK 01 AUDIO
    TITLE "Don't Stop"
    INDEX 01 00:00:00
  TRACK 02 AUDIO
    TITLE "Second Wind"
    PERFORMER "Guest Act"
    INDEX 00 00:09:00
    INDEX 01 00:10:00
  TRACK 03 AUDIO
    TITLE Closing
    INDEX 01 00:20:37
"""


@pytest.fixture
def mix(tmp_path):
    """A 30-s file of three 10-s tones and its cue sheet."""
    signal = np.concatenate([tone_signal(10.0, hz) for hz in (220.0, 330.0, 440.0)])
    sf.write(tmp_path / "mix.wav", signal, RATE)
    sheet = tmp_path / "mix.cue"
    sheet.write_text(SHEET)
    return sheet


def test_each_track_s_start_title_and_performer_are_read(mix):
    [(audio, tracks)] = read_cue_sheet(mix)
    assert audio == mix.parent / "mix.wav"
    assert [track.start_seconds for track in tracks] == [0.0, 10.0, 20 + 37 / 75]
    assert [track.tags for track in tracks] == [
        TrackTags("Don't Stop", "DJ Someone", "Live at the Docks"),  # the sheet's performer
        TrackTags("Second Wind", "Guest Act", "Live at the Docks"),  # its own
        TrackTags("Closing", "DJ Someone", "Live at the Docks"),  # an unquoted title
    ]
    assert CUE_FRAMES_PER_SECOND == 75


def test_a_sheet_in_windows_1252_or_with_a_byte_order_mark_reads_the_same(mix):
    text = SHEET.replace("Second Wind", "Café Noir")
    mix.write_bytes(text.encode("cp1252"))
    assert read_cue_sheet(mix)[0][1][1].tags.title == "Café Noir"
    mix.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    [(_, tracks)] = read_cue_sheet(mix)
    assert tracks[1].tags.title == "Café Noir" and tracks[0].tags.artist == "DJ Someone"


def test_a_sheet_of_one_file_per_track_gives_each_file_its_tracks(tmp_path):
    for name in ("a.flac", "b.flac"):
        sf.write(tmp_path / name, tone_signal(1.0, 440.0), RATE)
    sheet = tmp_path / "album.cue"
    sheet.write_text(
        'FILE "a.flac" WAVE\n TRACK 01 AUDIO\n  TITLE "A"\n  INDEX 01 00:00:00\n'
        'FILE "b.flac" WAVE\n TRACK 02 AUDIO\n  TITLE "B"\n  INDEX 01 00:00:00\n'
    )
    files = read_cue_sheet(sheet)
    assert [audio.name for audio, _ in files] == ["a.flac", "b.flac"]
    assert [[track.tags.title for track in tracks] for _, tracks in files] == [["A"], ["B"]]
    playlist = Playlist.from_paths([sheet])
    assert playlist.files == [tmp_path / "a.flac", tmp_path / "b.flac"]
    assert playlist.cue_tracks[tmp_path / "b.flac"][0].tags.title == "B"


@pytest.mark.parametrize(
    "text, message",
    [
        ('FILE "gone.flac" WAVE\n', "line 1: gone.flac does not exist"),
        ("TITLE x\n", "names no audio file (no FILE line)"),
        ("TRACK 01 AUDIO\n", "line 1: a TRACK before any FILE"),
        ('FILE "mix.wav" WAVE\nTRACK 01 AUDIO\nTITLE x\n', "line 2: track 01 has no INDEX 01"),
        ('FILE "mix.wav" WAVE\nTRACK 07 AUDIO\nINDEX 01 3:75:00\n', "line 3: INDEX 01 of track 07"),
        (
            'FILE "mix.wav" WAVE\nTRACK 01 AUDIO\nINDEX 01 00:10:00\nTRACK 02 AUDIO\n'
            "INDEX 01 00:05:00\n",
            "line 4: track 02 starts at 5.00 s, not after the track before (10.00 s)",
        ),
    ],
)
def test_a_sheet_that_cannot_play_is_refused_naming_it_and_the_line(mix, text, message):
    mix.write_text(text)
    with pytest.raises(CueSheetError, match=f"{re.escape(str(mix))}.*{re.escape(message)}"):
        read_cue_sheet(mix)
    with pytest.raises(PlaylistError, match=re.escape(message)):  # as --file, a drop, OSC
        Playlist.from_paths([mix])


def test_the_window_names_each_track_as_it_plays_and_steps_through_them(
    qtbot, make_window, model_dir, mix, show_log
):
    window = make_window(model_dir, show_log=show_log)
    assert window.sources.play_paths([str(mix)])
    label = window.panel.source_label
    assert label.text() == "file: mix.wav\nDon't Stop — DJ Someone"
    assert window.windowTitle().startswith("Don't Stop — DJ Someone")
    window.seek(10.5)  # into the second track: named on the window's next look
    qtbot.waitUntil(lambda: label.text().endswith("Second Wind — Guest Act"), timeout=TIMEOUT_MS)
    assert window.source.tags == TrackTags("Second Wind", "Guest Act", "Live at the Docks")
    assert f"playing {mix.parent.absolute() / 'mix.wav'} (Second Wind — Guest Act)" in (
        show_log.path.read_text()
    )
    assert window.sources.can_go_next
    assert window.next_file()  # N: the next track, in the same file
    assert window.source.position_seconds == pytest.approx(20 + 37 / 75)
    assert label.text().endswith("Closing — DJ Someone")  # named at once
    assert not window.sources.can_go_next  # the last track of the last file
    assert window.previous_file()  # in its first seconds: the track before
    assert window.source.position_seconds == pytest.approx(10.0)
    window.seek(15.0)
    qtbot.waitUntil(lambda: window.source.position_seconds >= 15.0, timeout=TIMEOUT_MS)
    assert window.previous_file()  # well into it: its own start
    assert window.source.position_seconds == pytest.approx(10.0)


def test_the_tracks_are_kept_with_the_list_for_the_next_start(
    qtbot, make_window, model_dir, mix, settings
):
    window = make_window(model_dir)
    assert window.sources.play_paths([str(mix)])
    window.seek(12.0)
    qtbot.waitUntil(lambda: window.source.position_seconds >= 12.0, timeout=TIMEOUT_MS)
    window.shutdown()
    kept = settings.file_list
    audio = (mix.parent / "mix.wav").absolute()
    assert kept.files == [audio]
    assert [track.tags.title for track in kept.cue_tracks[audio]] == [
        "Don't Stop",
        "Second Wind",
        "Closing",
    ]
    again = make_window(model_dir)  # the next start goes on in the second track, named
    qtbot.waitUntil(
        lambda: again.panel.source_label.text().endswith("Second Wind — Guest Act"),
        timeout=TIMEOUT_MS,
    )


def test_a_track_the_sheet_places_past_the_file_s_end_is_not_gone_to(
    qtbot, make_window, model_dir, mix, tmp_path
):
    """A sheet that says more than its file holds (its third track at 45 s of a 30-s
    file): next and the file's end go on to the list's next file, not to that track."""
    mix.write_text(SHEET.replace("INDEX 01 00:20:37", "INDEX 01 00:45:00"))
    after = tmp_path / "after.wav"
    sf.write(after, tone_signal(5.0, 550.0), RATE)
    window = make_window(model_dir)
    assert window.sources.play_paths([str(mix), str(after)])
    window.seek(10.5)
    qtbot.waitUntil(lambda: window.source.cue_track_number == 1, timeout=TIMEOUT_MS)
    assert window.next_file() and window.source.path == after  # past track 2: the next file
    assert window.previous_file() and window.source.path == mix.parent / "mix.wav"
    window.seek(29.0)  # and played to its end, the list goes on
    qtbot.waitUntil(lambda: window.source.path == after, timeout=TIMEOUT_MS)


def test_damaged_sheets_are_read_or_refused_in_words_never_crash(mix):
    """300 seeded damages of a real sheet (bytes flipped, cut, repeated, junk put in):
    each reads as tracks or is refused as a CueSheetError, nothing else."""
    rng = np.random.default_rng(71)
    original = SHEET.encode("utf-8")
    outcomes = {"read": 0, "refused": 0}
    for _ in range(300):
        damaged = bytearray(original)
        for _ in range(rng.integers(1, 8)):
            at = int(rng.integers(0, len(damaged)))
            kind = rng.integers(0, 4)
            if kind == 0:
                damaged[at] = int(rng.integers(0, 256))
            elif kind == 1:
                del damaged[at:]
            elif kind == 2:
                damaged[at:at] = damaged[at : at + int(rng.integers(1, 40))]
            else:
                damaged[at:at] = bytes(rng.integers(0, 256, int(rng.integers(1, 20))).tolist())
            if not damaged:
                damaged = bytearray(b"\n")
        mix.write_bytes(bytes(damaged))
        try:
            for audio, tracks in read_cue_sheet(mix):
                starts = [track.start_seconds for track in tracks]
                assert starts == sorted(set(starts)) and audio.is_file()
            outcomes["read"] += 1
        except CueSheetError as error:
            assert str(mix) in str(error)
            outcomes["refused"] += 1
    assert outcomes["read"] > 0 and outcomes["refused"] > 0, outcomes


def test_a_sheet_in_a_file_s_tags_gives_that_file_its_tracks(tmp_path):
    image = tmp_path / "album.flac"
    [start, second, third] = read_embedded_cue_sheet(SHEET, image)  # FILE "mix.wav": image's
    assert [track.start_seconds for track in (start, second, third)] == [0.0, 10.0, 20 + 37 / 75]
    assert second.tags == TrackTags("Second Wind", "Guest Act", "Live at the Docks")
    with pytest.raises(
        CueSheetError,
        match=re.escape(f"{image} (its CUESHEET tag), line 2: track 01 has no INDEX 01"),
    ):
        read_embedded_cue_sheet('FILE "x.wav" WAVE\nTRACK 01 AUDIO\n', image)


def test_a_file_s_own_marks_name_its_tracks_where_no_sheet_is_beside_it(tmp_path):
    signal = tone_signal(6.0, 220.0)
    sheet = 'FILE "CDImage.wav" WAVE\n  TRACK 01 AUDIO\n    TITLE "First"\n    INDEX 01 00:00:00\n'
    sheet += '  TRACK 02 AUDIO\n    TITLE "Second"\n    PERFORMER "Guest"\n    INDEX 01 00:03:00\n'
    tagged = write_with_cuesheet_tag(
        tmp_path / "image.flac", signal, RATE, sheet, {"ARTIST": "Band", "ALBUM": "Record"}
    )
    file_tags = TrackTags("Image", "Band", "Record")
    assert [(track.start_seconds, track.tags) for track in tracks_in_file(tagged, file_tags)] == [
        (0.0, TrackTags("First", "Band", "Record")),  # what the sheet leaves out: the file's
        (3.0, TrackTags("Second", "Guest", "Record")),
    ]
    block = write_flac_with_cuesheet_block(tmp_path / "rip.flac", signal, RATE, [0.0, 2.5])
    assert [(track.start_seconds, track.tags) for track in tracks_in_file(block, file_tags)] == [
        (0.0, TrackTags("Track 1", "Band", "Record")),  # a CUESHEET block names none
        (2.5, TrackTags("Track 2", "Band", "Record")),
    ]
    chapters = write_with_chapters(tmp_path / "mix.m4a", signal, RATE, [(0, "A"), (4, "B")])
    assert [track.tags for track in tracks_in_file(chapters, TrackTags("Mix", "DJ"))] == [
        TrackTags("A", "DJ", "Mix"),  # on the album its title names, where it has no album
        TrackTags("B", "DJ", "Mix"),
    ]
    one = write_with_chapters(tmp_path / "one.m4a", signal, RATE, [(0, "All of it")])
    assert tracks_in_file(one, file_tags) == ()  # one chapter: the file itself
    broken = write_with_cuesheet_tag(tmp_path / "broken.flac", signal, RATE, "TITLE x\n")
    assert tracks_in_file(broken, file_tags) == ()  # passed over, the file plays as a file


def test_the_window_names_an_m4a_s_chapters_and_steps_through_them(
    qtbot, make_window, model_dir, tmp_path
):
    signal = np.concatenate([tone_signal(5.0, hz) for hz in (220.0, 330.0, 440.0)])
    mix = write_with_chapters(
        tmp_path / "set.m4a",
        signal,
        RATE,
        [(0.0, "Opening"), (5.0, "Peak"), (10.0, "Closing")],
        {"artist": "DJ Someone", "album": "Live"},
    )
    window = make_window(model_dir)
    assert window.sources.play_paths([str(mix)])
    label = window.panel.source_label
    assert label.text() == "file: set.m4a\nOpening — DJ Someone"
    assert window.next_file()  # N: the next chapter, in the same file
    assert window.source.position_seconds == pytest.approx(5.0)
    assert label.text().endswith("Peak — DJ Someone")
    assert window.source.tags == TrackTags("Peak", "DJ Someone", "Live")


def test_a_file_given_alone_takes_the_tracks_of_the_sheet_beside_it(mix, tmp_path):
    audio = mix.parent / "mix.wav"
    playlist = Playlist.from_paths([audio])
    assert playlist.files == [audio]
    assert [track.start_seconds for track in playlist.cue_tracks[audio]] == [0, 10, 20 + 37 / 75]
    # converted after the sheet was written: the sheet of its name still names "mix.wav"
    converted = tmp_path / "converted"
    converted.mkdir()
    flac = converted / "mix.flac"
    sf.write(flac, sf.read(audio)[0], RATE)
    (converted / "mix.cue").write_text(SHEET)
    [first, *_] = Playlist.from_paths([flac]).cue_tracks[flac]
    assert first.tags == TrackTags("Don't Stop", "DJ Someone", "Live at the Docks")
    # a sheet of another name naming another file gives it nothing
    (converted / "mix.cue").rename(converted / "other.cue")
    assert Playlist.from_paths([flac]).cue_tracks == {}
