"""Three bands of the music's level, for sound-to-light: low, mid and high.

The signal is split at BAND_EDGES_HZ by Linkwitz-Riley crossovers of the 4th order (each a
2nd-order Butterworth filter applied twice: 24 dB an octave, the bands -6 dB at an edge),
filtered as a stream (the filters' state carried from one piece of samples to the next).
Each band is measured as `level.py` measures the whole signal: in blocks of `block`
samples, a block's level 10 log10(2 mean(x^2)) dB (a full-scale sine inside the band
reads 0 dB), and read as a meter, rising at once and falling with a time constant of
METER_SECONDS (SILENT_DB: nothing in the band).
"""

from __future__ import annotations

import math

import numpy as np
import scipy.signal

from .level import METER_SECONDS, SILENT_DB, block_levels_db, meter_step

BAND_NAMES = ("low", "mid", "high")
BAND_EDGES_HZ = (250.0, 2000.0)  # low below the first, high above the second
FILTER_ORDER = 2  # of each Butterworth section; two in a row make a Linkwitz-Riley crossover


def _crossover(kind: str, edge_hz: float, sample_rate: int) -> np.ndarray:
    """A 4th-order Linkwitz-Riley low- or high-pass at `edge_hz`, as second-order sections."""
    butterworth = scipy.signal.butter(
        FILTER_ORDER, edge_hz, btype=kind, fs=sample_rate, output="sos"
    )
    return np.concatenate([butterworth, butterworth])


class BandMeter:
    """The meters of the three bands of a stream of mono samples (see the module)."""

    def __init__(self, sample_rate: int, block: int):
        if block < 1 or sample_rate < 1:
            raise ValueError(f"block {block} and sample_rate {sample_rate} must be >= 1")
        low_edge, high_edge = BAND_EDGES_HZ
        if not high_edge < sample_rate / 2:
            raise ValueError(
                f"the band edges {BAND_EDGES_HZ} Hz need a rate above {2 * high_edge:g} Hz"
            )
        self.block = int(block)
        self._fall = 1.0 - math.exp(-(block / sample_rate) / METER_SECONDS)
        self._filters = (  # each band's second-order sections, in a row
            _crossover("lowpass", low_edge, sample_rate),
            np.concatenate(
                [
                    _crossover("highpass", low_edge, sample_rate),
                    _crossover("lowpass", high_edge, sample_rate),
                ]
            ),
            _crossover("highpass", high_edge, sample_rate),
        )
        self.reset()

    def reset(self) -> None:
        """Forget what was heard (a new source): every band silent."""
        self.levels_db = [SILENT_DB] * len(BAND_NAMES)
        self._states = [np.zeros((len(sos), 2)) for sos in self._filters]
        self._carried = [np.zeros(0) for _ in BAND_NAMES]  # of a block begun, per band

    def process(self, samples: np.ndarray) -> None:
        """Follow the bands of `samples` (float, mono), the stream's next piece."""
        samples = np.asarray(samples, dtype=np.float64)
        if len(samples) == 0:
            return
        for band, sos in enumerate(self._filters):
            filtered, self._states[band] = scipy.signal.sosfilt(sos, samples, zi=self._states[band])
            pending = np.concatenate([self._carried[band], filtered])
            whole = len(pending) // self.block * self.block
            self._carried[band] = pending[whole:]
            for level in block_levels_db(pending[:whole], self.block):
                self.levels_db[band] = meter_step(self.levels_db[band], float(level), self._fall)
