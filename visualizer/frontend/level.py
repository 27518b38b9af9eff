"""The music's level, and the automatic gain that brings a live input to the level of the
music a model was trained on.

A file plays at its own mastered level, as every training track did (training's gain
augmentation covers a few dB either side). A microphone's or a line input's level says
nothing of the music: it follows the distance, the room and the input's gain knob. Yet the
models follow it: of 624 windows of the labelled music, the encoder chooses the scene it
chooses at the file's level for 85% of them when they come 20 dB quieter and for 68% at
30 dB, and the feel's loudness term takes the mean arousal from +0.33 to -0.44 (darker
pictures; `musicscape eval --input-levels` measures it, visualizer/eval/input_level.py).
So a live input is brought, slowly, to the typical level of the training music, which the
encoder file carries (`music_level_db`).

Level: the signal in blocks of `block` samples (the contract's hop); a block's level is
10 log10(2 mean(x^2)) dB, so a full-scale sine reads 0 dB as in the descriptors' loudness.
Blocks below GATE_DB, or more than RELATIVE_GATE_DB below the level followed so far, are
left out (the silence between songs and a microphone's noise floor say nothing of the
music's level). A track's level is the mean of its counted blocks' levels; the training
music's level is the median of its tracks' levels (`music_level_db`).

The gain (`LevelFollower`): the counted block levels are followed by a running mean, an
exponential one with time constant `seconds` once that much has been counted (as the scene
memory does), and the gain is the reference minus the followed level, clipped to
[MIN_GAIN_DB, MAX_GAIN_DB]. It holds while nothing is counted, and within each piece of
samples it moves linearly from the gain the last piece ended on, so it never steps. Blocks
left out by the relative gate alone that go on for RELOCK_SECONDS without a break are a
new level, not a pause (the input's gain turned down, or a loud knock that set the level
before the music came): the running mean starts again from them.
Beside it, a meter for the panel and OSC: every block's level (none left out), rising at
once and falling with a time constant of METER_SECONDS, and whether a sample reached
CLIP_LEVEL (full scale: the input clips, and no gain after it can undo that) within the
last CLIP_HOLD_SECONDS.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from .contract import FrontEndContract
from .decode import AudioFileReader

GATE_DB = -70.0  # blocks quieter than this are silence or noise floor
RELATIVE_GATE_DB = 20.0  # and so are blocks this far below the level followed so far
RELOCK_SECONDS = 10.0  # ... unless they go on this long: then the input's level has changed
MIN_GAIN_DB = -12.0
MAX_GAIN_DB = 36.0
DEFAULT_LEVEL_SECONDS = 20.0  # slow: a quiet verse stays quieter than the chorus
SILENT_DB = -120.0  # the level of digital silence
METER_SECONDS = 0.3  # the panel's level meter
CLIP_LEVEL = 0.999  # a sample this near full scale: the input clips
CLIP_HOLD_SECONDS = 2.0  # the panel says so this long after the last one
STREAM_BLOCKS = 256  # a file's level is read this many blocks at a time


def block_levels_db(samples: np.ndarray, block: int) -> np.ndarray:
    """The level in dB of each whole block of `block` samples (a 0 dBFS sine: 0 dB)."""
    samples = np.asarray(samples, dtype=np.float32)
    count = len(samples) // block
    if count == 0:
        return np.zeros(0)
    blocks = samples[: count * block].reshape(count, block).astype(np.float64)
    return _level_db(np.mean(blocks * blocks, axis=1))


def _level_db(mean_square: np.ndarray | float) -> np.ndarray:
    return np.maximum(10.0 * np.log10(np.maximum(2.0 * mean_square, 1e-30)), SILENT_DB)


def meter_step(meter_db: float, level_db: float, fall: float) -> float:
    """A meter after a block at `level_db`: up to it at once, or `fall` (0-1) of the way
    down to it."""
    return level_db if level_db >= meter_db else meter_db + fall * (level_db - meter_db)


def counted(levels_db: np.ndarray) -> np.ndarray:
    """The block levels a track's level is the mean of: above GATE_DB, and not more than
    RELATIVE_GATE_DB below the mean of the blocks above GATE_DB (the track's pauses)."""
    loud = levels_db[levels_db > GATE_DB]
    if loud.size == 0:
        return loud
    return loud[loud > loud.mean() - RELATIVE_GATE_DB]


def track_level_db(levels_db: np.ndarray) -> float | None:
    """The level of a track from its blocks' levels; None when no block counts (silence)."""
    kept = counted(levels_db)
    return float(kept.mean()) if kept.size else None


def file_level_db(path: Path, contract: FrontEndContract) -> float | None:
    """The level of the audio file at `path`, decoded at the contract's rate in streamed
    blocks of whole hops (AudioDecodeError, naming the file, when it cannot be)."""
    levels = []
    with AudioFileReader(path, contract.sample_rate) as reader:
        for samples in reader.blocks(contract.hop * STREAM_BLOCKS):
            levels.append(block_levels_db(samples, contract.hop))
    return track_level_db(np.concatenate(levels)) if levels else None


def music_level_db(track_levels: Iterable[float | None]) -> float:
    """The typical level of a set of tracks: the median of their levels (silent ones left
    out). ValueError when none has a level."""
    levels = [level for level in track_levels if level is not None]
    if not levels:
        raise ValueError("no track has a level above the gate (all silent?)")
    return float(np.median(levels))


class LevelFollower:
    """Follows a live input's level and brings it to `reference_db` (see the module)."""

    def __init__(self, block: int, sample_rate: int, seconds: float = DEFAULT_LEVEL_SECONDS):
        if block < 1 or sample_rate < 1 or not (math.isfinite(seconds) and seconds > 0):
            raise ValueError(
                f"block {block} and sample_rate {sample_rate} must be >= 1 and seconds "
                f"{seconds} finite and positive"
            )
        self.block = int(block)
        self._block_seconds = block / sample_rate
        self._meter_fall = 1.0 - math.exp(-self._block_seconds / METER_SECONDS)
        self._sample_seconds = 1.0 / sample_rate
        self.seconds = float(seconds)
        self.reset()

    def reset(self) -> None:
        """Forget what was heard (a new source); the gain starts again from 0 dB."""
        self.level_db: float | None = None  # the level followed, None until a block counts
        self.gain_db = 0.0  # the gain the last piece of samples ended on
        self.meter_db = SILENT_DB  # every block's level: up at once, down over METER_SECONDS
        self._since_clip = math.inf  # seconds of samples since the last one at CLIP_LEVEL
        self._counted = 0
        self._quieter_seconds = 0.0  # how long blocks have been left out by the relative gate
        self._square_sum = 0.0  # of the block begun but not yet whole
        self._filled = 0

    def target_gain_db(self, reference_db: float | None) -> float:
        """The gain that brings the followed level to `reference_db` (0 dB until a block
        counted, or when there is no reference)."""
        if self.level_db is None or reference_db is None:
            return 0.0
        return float(np.clip(reference_db - self.level_db, MIN_GAIN_DB, MAX_GAIN_DB))

    @property
    def clipping(self) -> bool:
        """A sample reached CLIP_LEVEL within the last CLIP_HOLD_SECONDS of samples."""
        return self._since_clip <= CLIP_HOLD_SECONDS

    def measure(self, samples: np.ndarray) -> None:
        """Follow the level of `samples` (the input as it came, before any gain)."""
        samples = np.asarray(samples, dtype=np.float64)
        clipped = np.flatnonzero(np.abs(samples) >= CLIP_LEVEL)
        if clipped.size:
            self._since_clip = (len(samples) - 1 - clipped[-1]) * self._sample_seconds
        else:
            self._since_clip += len(samples) * self._sample_seconds
        start = 0
        while start < len(samples):
            take = min(self.block - self._filled, len(samples) - start)
            piece = samples[start : start + take]
            self._square_sum += float(np.dot(piece, piece))
            self._filled += take
            start += take
            if self._filled == self.block:
                self._count_block(float(_level_db(self._square_sum / self.block)))
                self._square_sum, self._filled = 0.0, 0

    def _count_block(self, level: float) -> None:
        self.meter_db = meter_step(self.meter_db, level, self._meter_fall)
        if level <= GATE_DB:
            return
        if self.level_db is not None and level <= self.level_db - RELATIVE_GATE_DB:
            self._quieter_seconds += self._block_seconds
            if self._quieter_seconds < RELOCK_SECONDS:
                return
            self.level_db, self._counted = None, 0  # a new level: follow it afresh
        self._quieter_seconds = 0.0
        self._counted += 1
        if self.level_db is None:
            self.level_db = level
            return
        moving = 1.0 - math.exp(-self._block_seconds / self.seconds)
        self.level_db += max(moving, 1.0 / self._counted) * (level - self.level_db)

    def process(self, samples: np.ndarray, reference_db: float | None) -> np.ndarray:
        """`samples` (float32) measured, then with the gain toward `reference_db` applied
        (None: toward 0 dB, the level left alone), moving linearly across them from the gain
        the last call ended on."""
        self.measure(samples)
        target = self.target_gain_db(reference_db)
        count = len(samples)
        if count == 0:
            return np.asarray(samples, dtype=np.float32)
        start = 10.0 ** (self.gain_db / 20.0)
        end = 10.0 ** (target / 20.0)
        self.gain_db = target
        if start == end:
            return (np.asarray(samples, dtype=np.float32) * np.float32(end)).astype(np.float32)
        ramp = np.linspace(start, end, count + 1, dtype=np.float64)[1:]
        return (np.asarray(samples, dtype=np.float64) * ramp).astype(np.float32)

    def process_in_pieces(
        self, signal: np.ndarray, reference_db: float | None, piece: int
    ) -> np.ndarray:
        """`signal` through `process`, `piece` samples at a time (as the app's worker hands
        an input over, one display frame's samples a call)."""
        starts = range(0, len(signal), piece)
        return np.concatenate([self.process(signal[i : i + piece], reference_db) for i in starts])
