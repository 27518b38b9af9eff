"""The probes' hand-made summaries on synthetic signals with known answers."""

import numpy as np
import pytest
import torch

from training.models.tonal_summary import RHYTHM_BANDS, TonalRhythmSummary
from visualizer.frontend import FrontEndContract, analyse_window
from visualizer.frontend.descriptors import KRUMHANSL_MAJOR

CONTRACT = FrontEndContract()
RATE = CONTRACT.sample_rate
TIME = np.arange(16 * RATE) / RATE
SUMMARY = TonalRhythmSummary(CONTRACT)
TONAL = slice(0, 22)


def tones(midi_notes, amplitude=0.2):
    frequencies = [440.0 * 2.0 ** ((note - 69) / 12) for note in midi_notes]
    return sum(amplitude * np.sin(2 * np.pi * f * TIME) for f in frequencies).astype(np.float32)


def clicks(every_seconds, amplitude=0.5):
    signal = np.zeros(TIME.size, dtype=np.float32)
    for start in range(RATE // 20, signal.size - 50, int(round(every_seconds * RATE))):
        signal[start : start + 50] = amplitude * np.hanning(50)
    return signal


@torch.no_grad()
def summarise(signal):
    return SUMMARY(torch.from_numpy(analyse_window(signal, CONTRACT)[None]))[0].numpy()


def key_of(tonic):
    """The twelve pitch classes from MIDI note `tonic` up, each as loud as the major key
    profile says: a signal whose chroma is the profile of the key on `tonic`."""
    profile = KRUMHANSL_MAJOR / KRUMHANSL_MAJOR.max()
    return sum(tones([tonic + step], amplitude=0.1 * weight) for step, weight in enumerate(profile))


def test_the_summary_has_its_documented_length():
    bands = SUMMARY.lag_edges.size - 1
    assert bands == 16
    assert summarise(key_of(60)).shape == (22 + bands + RHYTHM_BANDS + 2,) == (SUMMARY.size,)


@pytest.mark.parametrize("shift", range(1, 12))
def test_the_tonal_part_is_blind_to_the_key(shift):
    # from C6 up, where semitones are 3 or more STFT bins apart (around middle C a sine's
    # bins spill into the neighbouring pitch classes and the key can read as a minor one)
    c_major = summarise(key_of(84))[TONAL]
    transposed = summarise(key_of(84 + shift))[TONAL]
    assert transposed[21] == pytest.approx(0.0, abs=1e-3)  # major
    np.testing.assert_allclose(transposed, c_major, atol=0.03)


def test_the_tonic_comes_first_and_a_minor_triad_says_minor():
    major = summarise(tones((62, 66, 69)))  # D major
    minor = summarise(tones((57, 60, 64)))  # A minor
    # the rotated chroma: tonic, major third (4) and fifth (7) of D major; A minor's third is 3
    assert set(np.argsort(major[:12])[-3:]) == {0, 4, 7}
    assert set(np.argsort(minor[:12])[-3:]) == {0, 3, 7}
    assert major[21] == pytest.approx(0.0, abs=1e-3) and minor[21] == pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize("every_seconds", [0.25, 0.5, 1.0])
def test_the_onset_autocorrelation_peaks_at_the_click_period(every_seconds):
    bands = SUMMARY.lag_edges.size - 1
    rhythm = summarise(clicks(every_seconds))[22 : 22 + bands]
    edge_seconds = SUMMARY.lag_edges * CONTRACT.hop / RATE
    holds_a_multiple = np.asarray(
        [
            np.any((edge_seconds[b] - 0.03 <= multiples) & (multiples < edge_seconds[b + 1] + 0.03))
            for b in range(bands)
            for multiples in [every_seconds * np.arange(1, 12)]
        ]
    )
    at_period = np.flatnonzero(edge_seconds[:-1] <= every_seconds)[-1]
    assert rhythm[at_period] > 0.7
    assert np.all(rhythm[~holds_a_multiple] < 0.1)


def test_silence_reads_as_finite_values():
    silence = summarise(np.zeros(TIME.size, dtype=np.float32))
    assert np.all(np.isfinite(silence))
    # no power: a flat spectrum (flatness 1, constant) that does not move
    np.testing.assert_allclose(silence[-2:], [1.0, 0.0], atol=1e-3)  # float32 at 1e-10
    np.testing.assert_allclose(silence[-2 - RHYTHM_BANDS : -2], 0.0, atol=1e-5)


@torch.no_grad()
def test_each_window_of_a_batch_is_summarised_alone():
    windows = np.stack([analyse_window(signal, CONTRACT) for signal in (clicks(0.5), key_of(72))])
    together = SUMMARY(torch.from_numpy(windows)).numpy()
    for row, window in enumerate(windows):
        alone = SUMMARY(torch.from_numpy(window[None]))[0].numpy()
        np.testing.assert_allclose(together[row], alone, rtol=1e-5, atol=1e-5)


def test_the_lag_bands_are_the_band_maxima_of_the_onsets_direct_autocorrelation():
    """Against numpy's correlation of the same onset strength (the mean rise of log power,
    centred), normalised at lag 0: the repeated-rows reading shifts each lag exactly."""
    window = analyse_window(clicks(0.37) + tones((64, 67, 71), amplitude=0.05), CONTRACT)
    power = window[0].astype(np.float64)
    onset = np.maximum(np.diff(power, axis=1), 0.0).mean(axis=0)
    onset -= onset.mean()
    direct = np.correlate(onset, onset, mode="full")[onset.size - 1 :]  # lags 0, 1, ...
    direct /= direct[0]
    edges = SUMMARY.lag_edges
    expected = [direct[low:high].max() for low, high in zip(edges[:-1], edges[1:], strict=True)]
    bands = edges.size - 1
    with torch.no_grad():
        got = SUMMARY(torch.from_numpy(window[None]))[0].numpy()[22 : 22 + bands]
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)
