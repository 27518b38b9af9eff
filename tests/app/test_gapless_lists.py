"""A list's files follow each other without a gap. Where they share a rate and channels
(audio_sources.py's `FilePlayback.follow_with` / `move_on`, source_switcher.py's
`move_on`) the same output stream plays on, sample for sample, and the window shows the
next file as it is heard; a file of another rate or channels is opened ahead in an output
of its own, held silent until the file before is heard to its end
(`FilePlayback.start_after`, source_switcher.py's `open_ahead`)."""

from __future__ import annotations

import contextlib
import random
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from visualizer.app.audio_sources import FilePlayback
from visualizer.app.playlist import Playlist
from visualizer.app.sample_ring import SampleRing
from visualizer.app.source_switcher import APP_TITLE

from .conftest import RATE, tone_signal

TIMEOUT_MS = 15_000


def write_tone(path: Path, seconds: float, hz: float, rate: int = RATE, channels: int = 1):
    """A float WAV (decoded back exactly) of a half-scale sine."""
    signal = tone_signal(seconds, hz, rate)
    sf.write(
        path,
        np.stack([signal] * channels, axis=1) if channels > 1 else signal,
        rate,
        subtype="FLOAT",
    )
    return path


@pytest.fixture
def two_tones(tmp_path):
    """1.5 s at 440 Hz, then 1.5 s at 660 Hz: both 22,050 Hz mono."""
    return write_tone(tmp_path / "first.wav", 1.5, 440.0), write_tone(
        tmp_path / "second.wav", 1.5, 660.0
    )


def silent_playback(path: Path) -> FilePlayback:
    return FilePlayback(path, SampleRing(RATE * 8, RATE), use_output_device=False)


@contextlib.contextmanager
def playing(path: Path, following: Path) -> Iterator[FilePlayback]:
    """`path` playing on the silent clock, `following` to go on into; stopped after."""
    playback = silent_playback(path)
    playback.follow_with(following)
    playback.start()
    try:
        yield playback
    finally:
        playback.stop()


@contextlib.contextmanager
def monitor_recorded(qtbot, recording: Path, rate: int) -> Iterator[Path]:
    """What the null sink plays during the block, recorded from its monitor into
    `recording` (mono float32; a file, not a pipe: a full pipe would stall parec)."""
    with open(recording, "wb") as heard:
        record = subprocess.Popen(
            ["parec", "--raw", "--format=float32le", "--channels=1", f"--rate={rate}",
             "-d", "musicscape_test.monitor"],
            stdout=heard,
        )  # fmt: skip
        qtbot.wait(2500)  # the first recording stream delivers after about 2 s
        try:
            yield recording
        finally:
            record.terminate()
            record.wait(timeout=5)


def first_to_last_sound(recording: Path) -> np.ndarray:
    samples = np.fromfile(recording, dtype=np.float32)
    sounding = np.flatnonzero(np.abs(samples) > 0.05)
    return samples[sounding[0] : sounding[-1] + 1]


def quietest_2_ms(heard: np.ndarray) -> float:
    """The lowest peak of any 2-ms stretch (88 samples at 44.1 kHz): the tones' level where
    none is silent (a 441-Hz or higher sine peaks every 1.1 ms, each half period)."""
    return float(np.abs(heard[: len(heard) // 88 * 88]).reshape(-1, 88).max(axis=1).min())


def longest_silence_seconds(heard: np.ndarray, rate: int) -> float:
    """The longest run of 2-ms stretches (88 samples) whose peak is under 0.05."""
    peaks = np.abs(heard[: len(heard) // 88 * 88]).reshape(-1, 88).max(axis=1)
    longest = run = 0
    for silent in peaks < 0.05:
        run = run + 1 if silent else 0
        longest = max(longest, run)
    return longest * 88 / rate


def heard_so_far(playback: FilePlayback) -> np.ndarray:
    """What the playback's output has played (the last 4 s of it)."""
    heard = playback.heard.new_buffer()
    _, count, _ = playback.heard.copy_since(0, heard)
    return heard[:count]


def test_the_next_file_plays_on_sample_for_sample_and_is_heard_as_its_own(qtbot, two_tones):
    first, second = two_tones
    with playing(first, second) as playback:
        qtbot.waitUntil(lambda: playback.move_on(), timeout=TIMEOUT_MS)
        assert playback.path == second and playback.following is None
        assert playback.duration_seconds == pytest.approx(1.5)
        assert 0.0 <= playback.position_seconds < 0.5  # the second file's own place
        assert not playback.move_on()  # said once
        qtbot.waitUntil(lambda: playback.finished, timeout=TIMEOUT_MS)
        assert playback.decode_error is None
        heard = heard_so_far(playback)
        expected = np.concatenate(
            [sf.read(first, dtype="float32")[0], sf.read(second, dtype="float32")[0]]
        )
        np.testing.assert_array_equal(heard, expected)  # nothing lost, nothing added
        assert playback.ring.written == len(expected)  # the models heard both, in step
        assert playback.position_seconds == pytest.approx(1.5)


def test_a_seek_in_the_last_second_stays_in_the_file_heard_and_goes_on_again(qtbot, two_tones):
    first, second = two_tones
    with playing(first, second) as playback:
        # the feeder decodes a second ahead: it has gone on into the second file already
        qtbot.waitUntil(lambda: playback._next is not None, timeout=TIMEOUT_MS)
        assert playback.path == first and not playback.move_on()
        playback.seek(0.25)
        qtbot.waitUntil(lambda: playback._seek_request is None, timeout=TIMEOUT_MS)
        assert playback.path == first
        assert 0.249 < playback.position_seconds < 0.75
        assert playback._next is None or playback._next.starts_at > playback.played_frames
        qtbot.waitUntil(lambda: playback.move_on(), timeout=TIMEOUT_MS)
        assert playback.path == second
        qtbot.waitUntil(lambda: playback.finished, timeout=TIMEOUT_MS)
        heard = heard_so_far(playback)
        first_samples = sf.read(first, dtype="float32")[0]
        second_samples = sf.read(second, dtype="float32")[0]
        # the end of what was heard: the first file from 0.25 s on, then the second whole
        tail = np.concatenate([first_samples[round(0.25 * RATE) :], second_samples])
        np.testing.assert_array_equal(heard[-len(tail) :], tail)


@pytest.mark.parametrize(
    "rate, channels, written",
    [(44_100, 1, "another rate"), (RATE, 2, "stereo after mono")],
)
def test_a_file_of_another_rate_or_channels_is_left_to_open_anew(
    qtbot, tmp_path, two_tones, rate, channels, written
):
    first, _ = two_tones
    other = write_tone(tmp_path / "other.wav", 1.0, 550.0, rate, channels)
    with playing(first, other) as playback:
        qtbot.waitUntil(lambda: playback.finished, timeout=TIMEOUT_MS)
        assert not playback.move_on() and playback.path == first, written
        assert playback.decode_error is None


def test_a_following_file_that_does_not_open_ends_the_file_as_before(qtbot, tmp_path, two_tones):
    first, _ = two_tones
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF" + bytes(40))
    with playing(first, broken) as playback:
        qtbot.waitUntil(lambda: playback.finished, timeout=TIMEOUT_MS)
        assert not playback.move_on() and playback.path == first
        assert playback.decode_error is None  # the next file's fault is not this one's


def test_upcoming_is_the_file_advance_gives_where_it_is_known(tmp_path):
    files = [tmp_path / name for name in ("a.wav", "b.wav", "c.wav")]
    plain = Playlist(files)
    assert plain.upcoming == files[1]
    plain.advance()
    plain.advance()
    assert plain.upcoming is None  # the last, not looping
    looping = Playlist(files, loop=True)
    looping.index = 2
    assert looping.upcoming == files[0] == looping.advance()
    shuffled = Playlist(files, loop=True, shuffle=True, deal=random.Random(7))
    shuffled.index = 2
    ending = shuffled.current
    upcoming = shuffled.upcoming  # the next round, dealt at the round's last file
    assert upcoming is not None and upcoming != ending  # never the same file twice in a row
    assert shuffled.upcoming == upcoming  # dealt once
    assert shuffled.advance() == upcoming and shuffled.index == 0
    assert sorted(shuffled.files) == sorted(files)  # the new round deals every file
    assert Playlist(files[:1], loop=True).upcoming is None  # one file loops seamlessly


def test_the_window_shows_the_next_file_as_it_is_heard_without_opening_it_anew(
    qtbot, make_window, model_dir, settings, show_log, tmp_path
):
    tracks = [write_tone(tmp_path / f"track{n}.wav", 3.0, 220.0 * n) for n in (1, 2, 3)]
    sf.write(tracks[2], tone_signal(3.0, 660.0, 44_100), 44_100, subtype="FLOAT")  # 44.1 kHz
    window = make_window(model_dir, show_log=show_log)
    assert window.play_playlist(Playlist(tracks))
    playback = window.source
    qtbot.waitUntil(lambda: window.source.path == tracks[1], timeout=TIMEOUT_MS)
    assert window.source is playback  # the same playback and output went on
    assert window.sources.playlist.index == 1 and settings.file_path == str(tracks[1])
    assert window.panel.source_label.text() == "file: track2.wav"
    assert window.windowTitle() == f"track2.wav — {APP_TITLE}"
    assert window.source.position_seconds < 1.0
    assert show_log.path.read_text().count(f"playing {tracks[1].absolute()}") == 1
    assert window.source.following == tracks[2]  # the third is to follow (if it can)
    # the third has another rate: opened anew as the second ends, and played
    qtbot.waitUntil(lambda: window.source.path == tracks[2], timeout=TIMEOUT_MS)
    assert window.source is not playback and window.source.output_rate == 44_100
    assert window.sources.playlist.index == 2
    assert window.faults.get("playlist") is None and window.faults.get("source") is None


def test_through_a_sound_server_the_list_plays_with_no_silence_between_files(
    qtbot, pulse_server, make_window, model_dir, tmp_path
):
    """What the sink plays, recorded from its monitor: three 2-s tones, one after another,
    with no run of silence between them (opening a stream per file had left 2 s here)."""
    rate = 44_100
    tracks = [
        write_tone(tmp_path / f"tone{n}.wav", 2.0, hz, rate, channels=2)
        for n, hz in enumerate((441.0, 661.5, 882.0))
    ]
    window = make_window(model_dir, use_output_device=True)
    with monitor_recorded(qtbot, tmp_path / "heard.raw", rate) as recording:
        assert window.play_playlist(Playlist(tracks))
        assert window.source.output_name == "pulse"
        qtbot.waitUntil(lambda: window.source.path == tracks[2], timeout=TIMEOUT_MS)
        qtbot.waitUntil(lambda: window.source.finished, timeout=TIMEOUT_MS)
        qtbot.wait(500)
    heard = first_to_last_sound(recording)
    assert len(heard) / rate == pytest.approx(6.0, abs=0.01)  # all three, end to end
    assert quietest_2_ms(heard) > 0.25  # no silence anywhere in it


def test_a_file_shorter_than_the_second_decoded_ahead_is_gone_on_from_too(qtbot, tmp_path):
    """1.5 s, then 0.4 s (decoded to its end before it is heard, with nothing to follow
    yet), then 1.5 s: the third still follows in the same playback, nothing lost."""
    files = [
        write_tone(tmp_path / f"{n}.wav", seconds, hz)
        for n, (seconds, hz) in enumerate(((1.5, 440.0), (0.4, 550.0), (1.5, 660.0)))
    ]
    with playing(files[0], files[1]) as playback:
        qtbot.waitUntil(lambda: playback.move_on(), timeout=TIMEOUT_MS)
        assert playback.path == files[1]
        playback.follow_with(files[2])  # as the window does once it shows the second
        qtbot.waitUntil(lambda: playback.move_on(), timeout=TIMEOUT_MS)
        assert playback.path == files[2]
        qtbot.waitUntil(lambda: playback.finished, timeout=TIMEOUT_MS)
        heard = heard_so_far(playback)
        expected = np.concatenate([sf.read(path, dtype="float32")[0] for path in files])
        np.testing.assert_array_equal(heard, expected)


def test_a_file_started_after_another_takes_over_its_output(qtbot, two_tones, tmp_path):
    first, second = two_tones
    playing = silent_playback(first)
    playing.start()
    clock = playing._output
    taking = silent_playback(second)
    assert taking.can_take_output_from(playing)
    taking.start(hand_over=playing)
    playing.stop()  # as the window stops the file before, after the new one started
    try:
        assert taking._output is clock and clock.active  # the same clock plays on
        assert taking.output_name == playing.output_name
        qtbot.waitUntil(lambda: taking.finished, timeout=TIMEOUT_MS)
        np.testing.assert_array_equal(heard_so_far(taking), sf.read(second, dtype="float32")[0])
    finally:
        taking.stop()
    assert not clock.active  # closed by the playback that had it last
    other = silent_playback(write_tone(tmp_path / "other.wav", 1.0, 550.0, 44_100))
    another = silent_playback(first)
    another.start()
    try:
        assert not other.can_take_output_from(another)  # another rate: its own output
        stopped = silent_playback(second)
        assert not stopped.can_take_output_from(playing)  # a stopped one has none to give
    finally:
        another.stop()


def test_through_a_sound_server_next_sounds_at_once_in_the_same_stream(
    qtbot, pulse_server, make_window, model_dir, tmp_path
):
    """N three times through the PulseAudio null sink, recorded from its monitor: no
    silence between the files (a new stream per file had left 1.9 s each time here)."""
    rate = 44_100
    tracks = [
        write_tone(tmp_path / f"long{n}.wav", 20.0, hz, rate, channels=2)
        for n, hz in enumerate((441.0, 661.5, 882.0, 551.25))
    ]
    window = make_window(model_dir, use_output_device=True)
    with monitor_recorded(qtbot, tmp_path / "heard.raw", rate) as recording:
        assert window.play_playlist(Playlist(tracks))
        stream = window.source._output
        qtbot.wait(3000)
        for number in (1, 2, 3):
            assert window.next_file() and window.source.path == tracks[number]
            assert window.source._output is stream  # taken over, not opened anew
            qtbot.wait(1500)
    assert quietest_2_ms(first_to_last_sound(recording)) > 0.25  # no silence at any press


def test_through_a_sound_server_a_file_of_another_rate_follows_with_no_silence(
    qtbot, pulse_server, make_window, model_dir, tmp_path
):
    """44.1 kHz stereo, 48 kHz stereo, 44.1 kHz mono, 4 s each, recorded from the null sink's
    monitor: each file of another rate or channels plays in its own stream, opened and held
    silent before the file before it ends (a stream opened as it ended had left about 2 s
    of silence between them here: 16.06 s from the first sound to the last)."""
    rate = 44_100
    tracks = [
        write_tone(tmp_path / f"tone{n}.wav", 4.0, hz, file_rate, channels)
        for n, (hz, file_rate, channels) in enumerate(
            ((441.0, 44_100, 2), (661.5, 48_000, 2), (882.0, 44_100, 1))
        )
    ]
    window = make_window(model_dir, use_output_device=True)
    with monitor_recorded(qtbot, tmp_path / "heard.raw", rate) as recording:
        assert window.play_playlist(Playlist(tracks))
        qtbot.waitUntil(lambda: window.source.path == tracks[2], timeout=TIMEOUT_MS)
        assert window.source.output_rate == 44_100 and window.source.output_channels == 1
        qtbot.waitUntil(lambda: window.source.finished, timeout=TIMEOUT_MS)
        qtbot.wait(500)
    heard = first_to_last_sound(recording)
    # Two streams' times are PulseAudio's latency reports, good to tens of ms: a junction
    # leaves 0-54 ms of silence or overlap here (measured over a dozen runs), 2 s before.
    assert len(heard) / rate == pytest.approx(12.0, abs=0.1)  # all three, end to end
    assert longest_silence_seconds(heard, rate) < 0.1


def test_a_file_started_after_another_sounds_from_the_sample_after_its_last(qtbot, tmp_path):
    first = write_tone(tmp_path / "first.wav", 1.5, 440.0)
    second = write_tone(tmp_path / "second.wav", 1.0, 660.0, 44_100, channels=2)
    playing = silent_playback(first)
    playing.start()
    following = silent_playback(second)
    assert not playing.can_go_on_into(following)
    following.start_after(playing)
    try:
        assert following.started and following.alive  # its own output, open already
        qtbot.wait(500)
        assert following.heard.written == 0 and following.played_frames == 0  # held silent
        qtbot.waitUntil(lambda: following.finished, timeout=TIMEOUT_MS)
        np.testing.assert_array_equal(heard_so_far(following), sf.read(second, dtype="float32")[0])
        _, count, last_time = following.heard.copy_since(0, following.heard.new_buffer())
        first_heard_at = last_time - (count - 1) / 44_100
        # its first sample is heard the sample after the first file's last one
        assert playing.finished and playing.heard_to_its_end_at == playing.last_heard[1]
        assert first_heard_at - playing.last_heard[1] == pytest.approx(1 / 44_100, abs=1 / 44_100)
    finally:
        following.stop()
        playing.stop()


def test_a_file_started_after_another_sounds_at_once_when_told(qtbot, tmp_path, two_tones):
    first, _ = two_tones
    second = write_tone(tmp_path / "second.wav", 1.0, 660.0, 44_100)
    playing = silent_playback(first)
    playing.start()
    following = silent_playback(second)
    following.start_after(playing)
    try:
        qtbot.wait(300)
        assert following.heard.written == 0
        playing.stop()  # as the window does for N
        following.sound_now()
        qtbot.waitUntil(lambda: following.heard.written > 0, timeout=1000)
        assert not playing.finished  # it had not played to its end
    finally:
        following.stop()
        playing.stop()


def playing_and_opened_ahead(qtbot, window, tracks) -> tuple[FilePlayback, FilePlayback]:
    """The window plays `tracks` as a list: its first file, and the next file it opened
    ahead, once it has."""
    assert window.play_playlist(Playlist(tracks))
    first = window.source
    return first, opened_ahead_when_ready(qtbot, window.sources)


def opened_ahead_when_ready(qtbot, sources):
    """The list's next file the window opened ahead, once it has."""
    qtbot.waitUntil(lambda: sources._opened_ahead is not None, timeout=TIMEOUT_MS)
    return sources._opened_ahead


def a_tone_then_one_of_another_rate(folder: Path) -> list[Path]:
    """A 5-s tone at the tests' rate, mono, then a 2-s one at 44.1 kHz, stereo."""
    return [
        write_tone(folder / "first.wav", 5.0, 440.0),
        write_tone(folder / "second.wav", 2.0, 660.0, 44_100, channels=2),
    ]


def test_the_window_opens_a_file_of_another_rate_ahead_and_plays_it_in_that_output(
    qtbot, make_window, model_dir, settings, show_log, tmp_path
):
    tracks = a_tone_then_one_of_another_rate(tmp_path)
    window = make_window(model_dir, show_log=show_log)
    sources = window.sources
    first, opened_ahead = playing_and_opened_ahead(qtbot, window, tracks)
    assert first.position_seconds < 1.0  # as the first plays, at the window's next check
    assert opened_ahead.path == tracks[1] and opened_ahead.alive
    assert window.source is first and settings.file_path == str(tracks[0])  # not shown yet
    qtbot.waitUntil(lambda: window.source is opened_ahead, timeout=TIMEOUT_MS)
    assert not first.alive  # stopped once heard to its end
    assert sources._opened_ahead is None and sources.playlist.index == 1
    assert settings.file_path == str(tracks[1])
    assert window.windowTitle() == f"second.wav — {APP_TITLE}"
    assert show_log.path.read_text().count(f"playing {tracks[1].absolute()}") == 1
    qtbot.waitUntil(lambda: opened_ahead.finished, timeout=TIMEOUT_MS)
    np.testing.assert_array_equal(
        heard_so_far(opened_ahead), sf.read(tracks[1], dtype="float32")[0]
    )  # all of it, from its first sample


def test_what_was_opened_ahead_plays_at_once_on_next_and_is_opened_again_on_another_output(
    qtbot, make_window, model_dir, tmp_path
):
    tracks = [
        write_tone(tmp_path / "first.wav", 8.0, 440.0),
        write_tone(tmp_path / "second.wav", 2.0, 660.0, 44_100),
        write_tone(tmp_path / "third.wav", 2.0, 550.0, 44_100),
    ]
    window = make_window(model_dir)
    sources = window.sources
    _, opened_ahead = playing_and_opened_ahead(qtbot, window, tracks)
    assert window.use_output(None)  # another output: let go of, and opened again there
    assert not opened_ahead.alive
    opened_again = opened_ahead_when_ready(qtbot, sources)
    assert opened_again is not opened_ahead and opened_again.path == tracks[1]
    assert window.source.position_seconds < 7.0  # mid-file
    assert window.next_file() and window.source is opened_again  # N: that one, at once
    qtbot.waitUntil(lambda: opened_again.heard.written > 0, timeout=1000)
    assert opened_again.position_seconds < 0.5
    assert sources._opened_ahead is None  # the third goes on in its stream: none opened
    qtbot.wait(300)
    assert sources._opened_ahead is None and opened_again.following == tracks[2]


def test_a_looping_shuffle_goes_on_into_its_next_round_without_a_gap(
    qtbot, make_window, model_dir, tmp_path
):
    """Two 1.5-s files shuffled and looping: the next round is dealt at the round's last
    file, so its first follows in the same playback (it had been opened anew, after the
    last had ended)."""
    tracks = [write_tone(tmp_path / f"{n}.wav", 1.5, 220.0 * n) for n in (1, 2)]
    window = make_window(model_dir)
    assert window.play_playlist(Playlist(tracks, loop=True, shuffle=True, deal=random.Random(3)))
    playback, first = window.source, window.source.path
    qtbot.waitUntil(lambda: window.source.path != first, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: window.source.path == first, timeout=TIMEOUT_MS)  # round two
    assert window.source is playback and window.sources.playlist.index == 0


def test_through_a_sound_server_next_to_a_file_of_another_rate_sounds_at_once(
    qtbot, pulse_server, make_window, model_dir, tmp_path
):
    """N twice through the null sink, each to a file of another rate (44.1, 48, 44.1 kHz),
    recorded from its monitor: the next file, opened ahead as the one before played, sounds
    at once: 68-86 ms of silence at a press here (the file before's stream is stopped with
    what it held, and the new one's latency), where a stream opened at the press had left
    1.9 s."""
    rate = 44_100
    tracks = [
        write_tone(tmp_path / f"long{n}.wav", 20.0, hz, file_rate, channels=2)
        for n, (hz, file_rate) in enumerate(((441.0, 44_100), (661.5, 48_000), (882.0, 44_100)))
    ]
    window = make_window(model_dir, use_output_device=True)
    with monitor_recorded(qtbot, tmp_path / "heard.raw", rate) as recording:
        assert window.play_playlist(Playlist(tracks))
        for number in (1, 2):
            opened_ahead = opened_ahead_when_ready(qtbot, window.sources)
            qtbot.wait(3000)  # its stream flows by now
            assert window.next_file() and window.source is opened_ahead
            assert window.source.path == tracks[number]
        qtbot.wait(1500)
    assert longest_silence_seconds(first_to_last_sound(recording), rate) < 0.25


def test_a_device_survey_lets_go_of_what_was_opened_ahead_and_it_is_opened_again(
    qtbot, pulse_server, make_window, model_dir, tmp_path
):
    """The refresh button's survey re-initialises PortAudio, which leaves an open stream a
    dangling pointer: the file opened ahead is stopped before it (its stream had been asked
    whether it was active at every check after: 'Invalid stream pointer'), opened ahead
    again once the survey is over, and played in that output."""
    tracks = a_tone_then_one_of_another_rate(tmp_path)
    window = make_window(model_dir, use_output_device=True)
    sources = window.sources
    first, opened_ahead = playing_and_opened_ahead(qtbot, window, tracks)
    sources.look_for_devices()
    assert window.watchdog.surveying and not opened_ahead.alive
    assert sources._opened_ahead is None
    qtbot.waitUntil(lambda: not window.watchdog.surveying, timeout=TIMEOUT_MS)
    opened_again = opened_ahead_when_ready(qtbot, sources)
    assert opened_again is not opened_ahead and opened_again.path == tracks[1]
    assert window.source is first and first.uses_device and opened_again.uses_device
    qtbot.waitUntil(lambda: window.source is opened_again, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: opened_again.finished, timeout=TIMEOUT_MS)
    assert opened_again.heard.written == 2 * 44_100
