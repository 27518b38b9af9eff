"""The STFT front end on synthetic signals with known answers, and rolling-vs-offline parity."""

import numpy as np
import pytest

from visualizer.frontend import (
    FrontEndContract,
    RollingSTFT,
    analyse_blocks,
    analyse_signal,
    analyse_window,
)

CONTRACT = FrontEndContract()


def phase_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance between instantaneous-frequency values, which wrap at +-1 (= +-pi)."""
    difference = np.abs(a - b)
    return np.minimum(difference, 2.0 - difference)


def window_difference(rolling: np.ndarray, offline: np.ndarray) -> float:
    power = np.abs(rolling[0] - offline[0]).max()
    phase = phase_distance(rolling[1], offline[1]).max()
    return float(max(power, phase))


def music_like(seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * CONTRACT.sample_rate)) / CONTRACT.sample_rate
    tones = sum(0.2 * np.sin(2 * np.pi * f * t + rng.uniform(0, 6)) for f in (110, 440, 1234.5))
    return (tones + 0.05 * rng.standard_normal(t.size)).astype(np.float32)


def push_in_blocks(rolling: RollingSTFT, signal: np.ndarray, sizes) -> None:
    start = 0
    for size in sizes:
        if start >= len(signal):
            break
        rolling.push(signal[start : start + size])
        start += size
    assert start >= len(signal)


def test_contract_sizes():
    assert CONTRACT.window_samples == 352_800
    assert CONTRACT.n_frames == 689
    assert CONTRACT.input_shape == (2, 1024, 689)


@pytest.mark.parametrize("block", [1, 511, 512, 4096, 100_000])
def test_rolling_window_equals_offline_for_fixed_blocks(block):
    signal = music_like(CONTRACT.window_seconds)
    rolling = RollingSTFT(CONTRACT)
    push_in_blocks(rolling, signal, [block] * (len(signal) // block + 1))
    assert rolling.filled_frames == CONTRACT.n_frames
    assert window_difference(rolling.window(), analyse_window(signal, CONTRACT)) <= 1e-5


def test_rolling_window_equals_offline_for_random_blocks_past_one_window():
    signal = music_like(21.3, seed=1)
    sizes = np.random.default_rng(7).integers(1, 9000, size=len(signal)).tolist()
    rolling = RollingSTFT(CONTRACT)
    push_in_blocks(rolling, signal, sizes)
    features, onset = analyse_signal(signal, CONTRACT)
    assert rolling.total_frames == features.shape[2] == len(signal) // CONTRACT.hop
    newest = features[:, :, -CONTRACT.n_frames :]
    assert window_difference(rolling.window(), newest) <= 1e-5
    np.testing.assert_allclose(rolling.onset(), onset[-CONTRACT.n_frames :], atol=1e-6)


def test_partial_window_is_preceded_by_silence_and_counts_real_frames():
    signal = music_like(5.0, seed=2)
    rolling = RollingSTFT(CONTRACT)
    rolling.push(signal)
    real = len(signal) // CONTRACT.hop
    assert rolling.filled_frames == real
    window = rolling.window()
    assert window_difference(window, analyse_window(signal, CONTRACT)) <= 1e-5
    silent = window[:, :, : CONTRACT.n_frames - real]
    assert np.all(silent[0] == -1.0) and np.all(silent[1] == 0.0)


def test_window_is_contiguous_float32_and_reuses_the_output_buffer():
    rolling = RollingSTFT(CONTRACT)
    rolling.push(music_like(1.0))
    out = np.empty(CONTRACT.input_shape, dtype=np.float32)
    result = rolling.window(out)
    assert result is out
    assert result.flags.c_contiguous and result.dtype == np.float32
    assert rolling.window_view().base is not None  # a view of the ring, not a copy


def test_bin_centred_full_scale_sine_reads_plus_one_at_its_bin_with_zero_phase_deviation():
    k = 93
    frequency = k * CONTRACT.sample_rate / CONTRACT.n_fft
    t = np.arange(CONTRACT.window_samples) / CONTRACT.sample_rate
    window = analyse_window(np.sin(2 * np.pi * frequency * t).astype(np.float32), CONTRACT)
    column = window[:, :, -1]
    assert int(np.argmax(column[0])) == k
    assert column[0, k] == pytest.approx(1.0, abs=1e-4)
    assert column[1, k] == pytest.approx(0.0, abs=1e-3)


def test_phase_channel_measures_offset_inside_the_bin():
    # A quarter-bin offset advances the phase by 2*pi*0.25*hop/n_fft = pi/8 beyond the bin centre.
    k, offset = 200, 0.25
    frequency = (k + offset) * CONTRACT.sample_rate / CONTRACT.n_fft
    t = np.arange(CONTRACT.window_samples) / CONTRACT.sample_rate
    window = analyse_window(0.5 * np.sin(2 * np.pi * frequency * t).astype(np.float32), CONTRACT)
    assert int(np.argmax(window[0, :, -1])) == k
    expected = 2 * np.pi * offset * CONTRACT.hop / CONTRACT.n_fft / np.pi
    np.testing.assert_allclose(window[1, k, 10:], expected, atol=1e-3)


def test_power_scale_is_6_db_per_halving():
    t = np.arange(CONTRACT.window_samples) / CONTRACT.sample_rate
    frequency = 50 * CONTRACT.sample_rate / CONTRACT.n_fft
    full = analyse_window(np.sin(2 * np.pi * frequency * t).astype(np.float32), CONTRACT)
    half = analyse_window(0.5 * np.sin(2 * np.pi * frequency * t).astype(np.float32), CONTRACT)
    step_db = 20 * np.log10(2.0)
    units_per_db = -2.0 / CONTRACT.floor_db
    assert full[0, 50, -1] - half[0, 50, -1] == pytest.approx(step_db * units_per_db, abs=1e-4)


@pytest.mark.parametrize("click_sample", [100_000, 100_511, 200_704])
def test_click_onset_peaks_in_the_first_frame_that_contains_it(click_sample):
    signal = np.zeros(CONTRACT.window_samples, dtype=np.float32)
    signal[click_sample] = 1.0
    _, onset = analyse_signal(signal, CONTRACT)
    assert int(np.argmax(onset)) == click_sample // CONTRACT.hop
    assert onset[click_sample // CONTRACT.hop - 1] == 0.0


def test_silence_reads_floor_power_and_zero_phase():
    window = analyse_window(np.zeros(CONTRACT.window_samples, np.float32), CONTRACT)
    assert np.all(window[0] == -1.0)
    assert np.all(window[1] == 0.0)
    _, onset = analyse_signal(np.zeros(CONTRACT.window_samples, np.float32), CONTRACT)
    assert np.all(onset == 0.0)


def test_non_finite_samples_are_zeroed_and_counted():
    signal = music_like(3.0)
    dirty = signal.copy()
    dirty[[10, 5000, 40_000]] = [np.nan, np.inf, -np.inf]
    clean = signal.copy()
    clean[[10, 5000, 40_000]] = 0.0
    rolling = RollingSTFT(CONTRACT)
    rolling.push(dirty[:30_000])
    rolling.push(dirty[30_000:])
    assert rolling.nonfinite_samples == 3
    window = rolling.window()
    assert np.isfinite(window).all()
    assert window_difference(window, analyse_window(clean, CONTRACT)) <= 1e-5


def test_empty_push_is_a_no_op_and_reset_returns_to_silence():
    rolling = RollingSTFT(CONTRACT)
    assert rolling.push(np.zeros(0, np.float32)) == 0
    assert rolling.push(music_like(2.0)) == round(2.0 * CONTRACT.sample_rate) // CONTRACT.hop
    rolling.reset()
    assert rolling.filled_frames == 0 and rolling.total_samples == 0
    assert np.all(rolling.window()[0] == -1.0)


def test_push_returns_new_frame_counts():
    rolling = RollingSTFT(CONTRACT)
    assert rolling.push(np.zeros(511, np.float32)) == 0
    assert rolling.push(np.zeros(1, np.float32)) == 1
    assert rolling.push(np.zeros(512 * 3 + 100, np.float32)) == 3
    assert rolling.total_frames == 4


def test_zero_length_and_two_dimensional_signals_are_refused():
    with pytest.raises(ValueError, match="shorter than one hop"):
        analyse_signal(np.zeros(0, np.float32), CONTRACT)
    with pytest.raises(ValueError, match="mono"):
        RollingSTFT(CONTRACT).push(np.zeros((100, 2), np.float32))


def test_latest_columns_are_the_newest_frames():
    signal = music_like(4.0)
    rolling = RollingSTFT(CONTRACT)
    rolling.push(signal)
    features, _ = analyse_signal(signal, CONTRACT)
    np.testing.assert_array_equal(rolling.latest_columns(5)[0], features[0, :, -5:])


def test_analysis_in_blocks_equals_analysing_the_whole_signal():
    signal = music_like(21.3, seed=2)
    features, onset = analyse_signal(signal, CONTRACT)
    edges = np.cumsum(np.random.default_rng(3).integers(1, 40_000, size=100))
    blocks = np.split(signal, edges[edges < len(signal)])
    parts = list(analyse_blocks(blocks, CONTRACT))
    assert sum(len(part_onset) for _, part_onset in parts) == len(signal) // CONTRACT.hop
    streamed = np.concatenate([columns for columns, _ in parts]).transpose(1, 2, 0)
    assert window_difference(streamed, features) <= 1e-5
    np.testing.assert_allclose(np.concatenate([o for _, o in parts]), onset, atol=1e-6)
