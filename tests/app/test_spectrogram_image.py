"""The spectrogram image: rows on a log or linear frequency axis, a tone on its row."""

from __future__ import annotations

import numpy as np

from visualizer.app.spectrogram_image import SpectrogramImage
from visualizer.frontend import FrontEndContract, analyse_signal


def test_spectrogram_image_puts_a_tone_on_its_row():
    contract = FrontEndContract()
    t = np.arange(contract.sample_rate * 2) / contract.sample_rate
    tone_hz = 1000.0
    power, _ = analyse_signal((0.5 * np.sin(2 * np.pi * tone_hz * t)).astype(np.float32), contract)
    for log_frequency in (True, False):
        image = SpectrogramImage(contract, columns=50, log_frequency=log_frequency, rows=256)
        rendered = image.render(power[0][:, -30:])
        assert rendered.shape == (len(image.row_bins), 50) and rendered.dtype == np.uint8
        assert (rendered[:, :20] == 0).all()  # columns not yet heard read as the floor
        peak_row = int(np.argmax(rendered[:, -1]))
        assert peak_row == image.row_of_hz(tone_hz)
