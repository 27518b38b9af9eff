"""When a block the output renders counts as played (audio_sources.py's `FilePlayback`),
as the GUI thread sees it: a pause (`set_paused`) holds the file where it stands, with no
block under way as it came counted after it; a file counts as finished only once its last
block is where it is heard and analysed; a seek reads as the place asked for until the
file is there."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from visualizer.app.audio_sources import FilePlayback
from visualizer.app.sample_ring import SampleRing

from .conftest import RATE, tone_signal, write_ogg

PAUSES = 200
WAIT_SECONDS = 5.0


@contextlib.contextmanager
def played_by_hand(
    path: Path, ring: SampleRing | None = None, loop: bool = False
) -> Iterator[tuple[FilePlayback, Callable[[], None]]]:
    """`path` decoded on by its feeder with its output closed, and what plays one block of
    it as an output thread would; stopped after."""
    playback = FilePlayback(
        path, ring or SampleRing(RATE * 8, RATE), use_output_device=False, loop=loop
    )
    playback.start()
    playback.close_output()
    block = np.zeros((playback.block, playback.output_channels), dtype=np.float32)
    try:
        yield playback, lambda: playback._render(block, playback.block, time.perf_counter())
    finally:
        playback.stop()


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.0005)


def test_no_block_counts_as_played_once_a_pause_has_returned(tmp_path):
    path = write_ogg(tmp_path / "tone.ogg", tone_signal(4.0, 440.0))
    with played_by_hand(path, loop=True) as (playback, play_a_block):
        moved_while_paused = pauses_while_played_without_rest(playback, play_a_block)
    assert moved_while_paused == [0] * PAUSES


def pauses_while_played_without_rest(playback, play_a_block) -> list[int]:
    """How far the file moved on after each of PAUSES pauses, while a second thread plays
    block after block without rest."""
    stopping = threading.Event()

    def render_without_rest():
        while not stopping.is_set():
            play_a_block()

    renderer = threading.Thread(target=render_without_rest, daemon=True)
    renderer.start()
    moved_while_paused = []
    try:
        for _ in range(PAUSES):
            playing_from = playback.played_frames
            wait_until(lambda start=playing_from: playback.played_frames != start, "no block")
            playback.set_paused(True)
            held = playback.played_frames
            time.sleep(0.002)
            moved_while_paused.append(playback.played_frames - held)
            playback.set_paused(False)
    finally:
        stopping.set()
        renderer.join(timeout=2)
    return moved_while_paused


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
    with played_by_hand(path, ring) as (playback, play_a_block):
        ring.playback = playback
        # decoded whole first: the last block played finishes it
        wait_until(lambda: playback.ended, "the file was not decoded to its end")
        while not playback.finished:
            play_a_block()
    assert ring.blocks_after_finished == 0
    assert playback.heard.written == ring.written == len(tone)


def test_a_seek_under_way_reads_as_the_place_asked_for_and_never_as_finished(tmp_path):
    """From the moment the feeder takes a seek up until the file is put there (the reader's
    seek can take a while in a long compressed file), the position is the place asked for,
    and a file played to its end and sought back in does not count as finished (the window
    would have moved on to the next file)."""
    path = write_ogg(tmp_path / "tone.ogg", tone_signal(1.0, 440.0))
    with played_by_hand(path) as (playback, play_a_block):
        while not playback.finished:
            play_a_block()
        assert playback.position_seconds == 1.0
        with playback._lock:  # the feeder is held inside the seek, before the reader moves
            playback.seek(0.25)
            wait_until(
                lambda: playback._seek_request is None, "the feeder did not take the seek up"
            )
            held = (playback.position_seconds, playback.finished, playback.heard_to_its_end_at)
        assert held == (0.25, False, None)
        wait_until(  # decoded from 0.25 s
            lambda: playback._buffer.frames_written != playback.played_frames,
            "nothing was decoded after the seek",
        )
        assert playback.position_seconds == pytest.approx(0.25, abs=1 / RATE)  # its frame
        assert not playback.finished
