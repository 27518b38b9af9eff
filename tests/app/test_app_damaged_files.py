"""Damaged files in the running app: refused at the start or stopped midway, with a line in
the window naming the file and the reason; the app keeps running."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from tests.bad_files import (
    write_flac_with_a_damaged_comment_block,
    write_ogg_cut_short,
    write_wav_damaged_midway,
)

from .conftest import RATE


def test_a_file_that_fails_on_its_first_read_is_named_in_the_window(
    qtbot, make_window, model_dir, beats_file, tmp_path
):
    window = make_window(model_dir)
    assert window.play_file(beats_file)
    flac = write_flac_with_a_damaged_comment_block(tmp_path / "flipped.flac")
    assert not window.play_file(flac)
    assert f"{flac}: decoding failed near 0.0 s" in window.faults["source"]
    playing = window.canvas.frames_painted
    qtbot.waitUntil(lambda: window.canvas.frames_painted > playing + 10, timeout=10_000)


def test_a_file_damaged_midway_plays_until_there_then_says_why_it_stopped(
    qtbot, make_window, model_dir, tmp_path
):
    path = write_wav_damaged_midway(tmp_path / "damaged.wav", 8.0, 5.0, RATE)
    window = make_window(model_dir)
    assert window.play_file(path)
    assert "source" not in window.faults
    qtbot.waitUntil(lambda: "source" in window.faults, timeout=15_000)
    assert window.faults["source"].startswith(
        f"Playback stopped: {path}: decoded samples reach 5.7e+29 near 5.0 s"
    )
    assert window.source.position_seconds > 2.0  # what came before the damage was played


def test_an_ogg_file_cut_short_plays_to_its_end_then_says_it_was_cut(
    qtbot, make_window, model_dir, tmp_path
):
    path = write_ogg_cut_short(tmp_path / "cut.ogg", 20.0, 0.5, RATE)
    held = sf.info(path).duration  # 7.3 s of the 20
    window = make_window(model_dir)
    assert window.play_file(path)
    qtbot.waitUntil(lambda: "source" in window.faults, timeout=15_000)
    assert window.faults["source"].startswith(
        f"Playback stopped: {path}: the Ogg stream breaks off at {held:.1f} s without its end"
    )
    assert window.source.position_seconds == pytest.approx(held, abs=0.1)  # all it holds


def test_nan_and_infinite_samples_play_as_silence_and_are_counted_in_the_window(
    qtbot, make_window, model_dir, beats_file, tmp_path
):
    time = np.arange(4 * RATE) / RATE
    signal = (0.3 * np.sin(2 * np.pi * 440 * time)).astype(np.float32)
    signal[RATE : RATE + 1000] = np.nan
    signal[2 * RATE : 2 * RATE + 500] = np.inf
    path = tmp_path / "nans.wav"
    sf.write(path, signal, RATE, subtype="FLOAT")
    window = make_window(model_dir)
    assert window.play_file(path)
    qtbot.waitUntil(  # counted as decoding goes, about a second ahead of the sound
        lambda: (
            window.faults.get("samples")
            == f"{path}: 1500 samples so far are NaN or infinite; they play as silence."
        ),
        timeout=10_000,
    )
    playing = window.canvas.frames_painted
    qtbot.waitUntil(lambda: window.canvas.frames_painted > playing + 10, timeout=10_000)
    assert window.play_file(beats_file)
    assert "samples" not in window.faults  # the line went with the file


def test_a_playlist_goes_on_past_a_file_damaged_midway_and_says_why(
    qtbot, make_window, model_dir, beats_file, tmp_path
):
    from visualizer.app.playlist import Playlist

    damaged = write_wav_damaged_midway(tmp_path / "damaged.wav", 8.0, 5.0, RATE)
    window = make_window(model_dir)
    assert window.play_playlist(Playlist([damaged, beats_file]))
    qtbot.waitUntil(lambda: window.source.path == beats_file, timeout=15_000)
    assert window.faults["playlist"].startswith(
        f"Ended early: {damaged}: decoded samples reach 5.7e+29 near 5.0 s"
    )
    assert "source" not in window.faults and not window.playlist_ended
    playing = window.canvas.frames_painted
    qtbot.waitUntil(lambda: window.canvas.frames_painted > playing + 10, timeout=10_000)
