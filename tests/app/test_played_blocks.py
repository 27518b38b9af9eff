"""When a block the output renders counts as played (audio_sources.py's `FilePlayback`),
as the GUI thread sees it: a pause (`set_paused`) holds the file where it stands, with no
block under way as it came counted after it; a file counts as finished only once its last
block is where it is heard and analysed; a seek reads as the place asked for until the
file is there."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from visualizer.app.audio_sources import FilePlayback
from visualizer.app.sample_ring import SampleRing

from .conftest import RATE, tone_signal, write_ogg

PAUSES = 200


def test_no_block_counts_as_played_once_a_pause_has_returned(tmp_path):
    path = write_ogg(tmp_path / "tone.ogg", tone_signal(4.0, 440.0))
    playback = FilePlayback(path, SampleRing(RATE * 8, RATE), use_output_device=False, loop=True)
    playback.start()
    playback.close_output()  # a second output thread, below, renders as fast as it can
    block = np.zeros((playback.block, playback.output_channels), dtype=np.float32)
    stopping = threading.Event()

    def render_without_rest():
        while not stopping.is_set():
            playback._render(block, playback.block, time.perf_counter())

    renderer = threading.Thread(target=render_without_rest, daemon=True)
    renderer.start()
    moved_while_paused = []
    try:
        for _ in range(PAUSES):
            playing_from = playback.played_frames
            while playback.played_frames == playing_from:  # until blocks are being played
                time.sleep(0.0005)
            playback.set_paused(True)
            held = playback.played_frames
            time.sleep(0.002)
            moved_while_paused.append(playback.played_frames - held)
            playback.set_paused(False)
    finally:
        stopping.set()
        renderer.join(timeout=2)
        playback.stop()
    assert moved_while_paused == [0] * PAUSES


class RingThatSeesFinished(SampleRing):
    """The models' ring, noting as each block arrives whether its file counts as finished."""

    def __init__(self, capacity: int, sample_rate: int):
        super().__init__(capacity, sample_rate)
        self.playback: FilePlayback | None = None
        self.blocks_after_finished = 0

    def write(self, block: np.ndarray, last_sample_time: float) -> None:
        if self.playback is not None and self.playback.finished:
            self.blocks_after_finished += 1
        super().write(block, last_sample_time)


def test_a_file_counts_as_finished_only_once_its_last_block_is_heard_and_analysed(tmp_path):
    """The window moves on, and a recording ends, when a file is `finished`: its last
    block must be in the heard and analysed rings by then (the heard ring had been 442
    frames short once, read between the two)."""
    tone = tone_signal(0.25, 440.0)
    path = write_ogg(tmp_path / "short.ogg", tone)
    ring = RingThatSeesFinished(RATE * 8, RATE)
    playback = FilePlayback(path, ring, use_output_device=False)
    ring.playback = playback
    playback.start()
    playback.close_output()  # the blocks are played below, one by one
    while not playback.ended:  # decoded whole: the last block played finishes it
        time.sleep(0.001)
    block = np.zeros((playback.block, playback.output_channels), dtype=np.float32)
    while not playback.finished:
        playback._render(block, playback.block, time.perf_counter())
    playback.stop()
    assert ring.blocks_after_finished == 0
    assert playback.heard.written == ring.written == len(tone)


def test_a_seek_under_way_reads_as_the_place_asked_for_and_never_as_finished(tmp_path):
    """From the moment the feeder takes a seek up until the file is put there (the reader's
    seek can take a while in a long compressed file), the position is the place asked for,
    and a file played to its end and sought back in does not count as finished (the window
    would have moved on to the next file)."""
    playback = FilePlayback(
        write_ogg(tmp_path / "tone.ogg", tone_signal(1.0, 440.0)),
        SampleRing(RATE * 8, RATE),
        use_output_device=False,
    )
    playback.start()
    playback.close_output()  # the blocks are played below, one by one
    block = np.zeros((playback.block, playback.output_channels), dtype=np.float32)
    while not playback.finished:
        playback._render(block, playback.block, time.perf_counter())
    assert playback.position_seconds == 1.0
    with playback._lock:  # the feeder is held inside the seek, before the reader moves
        playback.seek(0.25)
        deadline = time.monotonic() + 5.0
        while playback._seek_request is not None:  # until the feeder has taken it up
            assert time.monotonic() < deadline, "the feeder did not take the seek up"
            time.sleep(0.001)
        held = (playback.position_seconds, playback.finished, playback.heard_to_its_end_at)
    assert held == (0.25, False, None)
    deadline = time.monotonic() + 5.0
    while playback._buffer.frames_written == playback.played_frames:  # decoded from 0.25 s
        assert time.monotonic() < deadline, "nothing was decoded after the seek"
        time.sleep(0.001)
    assert playback.position_seconds == pytest.approx(0.25, abs=1 / RATE)  # the frame it is on
    assert not playback.finished
    playback.stop()
