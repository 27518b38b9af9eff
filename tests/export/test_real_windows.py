"""The real windows export checks its encoder on: the first window of each listed track."""

import numpy as np
import soundfile as sf

from export.run_export import real_windows
from visualizer.frontend import FrontEndContract, analyse_window, decode_file


def test_real_windows_are_the_first_window_of_each_track(tmp_path):
    contract = FrontEndContract()
    rng = np.random.default_rng(0)
    for name, seconds in (("long.wav", 20.0), ("short.wav", 3.0)):
        noise = 0.2 * rng.standard_normal(int(seconds * 44_100)).astype(np.float32)
        sf.write(tmp_path / name, noise, 44_100, subtype="FLOAT")
    windows = real_windows(tmp_path, ["long.wav", "short.wav"], contract.to_dict(), 2)
    assert windows.shape == (2, *contract.input_shape)
    for window, name in zip(windows, ("long.wav", "short.wav"), strict=True):
        signal = decode_file(tmp_path / name, contract.sample_rate)
        expected = analyse_window(signal[: contract.window_samples], contract)
        np.testing.assert_allclose(window, expected, atol=1e-5)
