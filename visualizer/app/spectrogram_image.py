"""Turns the rolling STFT's newest power columns into the spectrogram widget's uint8 image.

Rows are frequencies (row 0 the lowest), columns time (newest last). On a log-frequency
axis each row shows the bin nearest a log-spaced frequency; on a linear axis rows are bins.
The power channel is already in [-1, 1] (floor -> -1, 0 dBFS -> +1), so the mapping to
0..255 is fixed: no autoscaling, no NaN.
"""

from __future__ import annotations

import numpy as np

from visualizer.frontend import FrontEndContract
from visualizer.pixels import to_uint8

LOWEST_LOG_HZ = 40.0


class SpectrogramImage:
    def __init__(self, contract: FrontEndContract, columns: int, log_frequency: bool, rows: int):
        self.contract = contract
        self.columns = columns
        self.log_frequency = log_frequency
        bin_hz = contract.sample_rate / contract.n_fft
        top_hz = (contract.n_bins - 1) * bin_hz
        if log_frequency:
            frequencies = np.geomspace(LOWEST_LOG_HZ, top_hz, rows)
            self.row_bins = np.clip(np.rint(frequencies / bin_hz), 0, contract.n_bins - 1)
            self.row_bins = self.row_bins.astype(np.intp)
        else:
            self.row_bins = np.arange(contract.n_bins, dtype=np.intp)
        self.row_hz = self.row_bins * bin_hz
        self._scaled = np.empty((len(self.row_bins), columns), dtype=np.float32)

    def row_of_bin(self, bin_index: int) -> int:
        """The row that shows the bin nearest `bin_index`."""
        return int(np.argmin(np.abs(self.row_bins - bin_index)))

    def row_of_hz(self, hz: float) -> int:
        return self.row_of_bin(round(hz * self.contract.n_fft / self.contract.sample_rate))

    def render(self, power_columns: np.ndarray) -> np.ndarray:
        """power_columns [n_bins, k] in [-1, 1] (k <= columns) -> uint8 [rows, columns]."""
        count = power_columns.shape[1]
        scaled = self._scaled
        if count < self.columns:
            scaled[:, : self.columns - count] = -1.0
        target = scaled[:, self.columns - count :]
        np.take(power_columns, self.row_bins, axis=0, out=target)
        return to_uint8(scaled)
