"""Pausing a file (audio_sources.py's `FilePlayback.set_paused`) holds it where it stands:
a block the output was rendering as the pause came is not counted as played after it."""

from __future__ import annotations

import threading
import time

import numpy as np

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
