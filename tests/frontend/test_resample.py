"""One polyphase resampler for files and live input: blocks of any size give what resampling
the whole stream at once gives."""

import numpy as np
import pytest
from scipy.signal import resample_poly

from visualizer.frontend import StreamResampler
from visualizer.frontend.resample import Polyphase


def tone(hz: float, rate: int, seconds: float, phase: float = 0.0) -> np.ndarray:
    return np.sin(2 * np.pi * hz * np.arange(int(rate * seconds)) / rate + phase)


@pytest.mark.parametrize(("in_rate", "out_rate"), [(48_000, 22_050), (44_100, 22_050),
                                                   (16_000, 22_050)])  # fmt: skip
def test_a_tone_comes_out_at_the_new_rate_as_resample_poly_gives_it(in_rate, out_rate):
    resampler = StreamResampler(in_rate, out_rate)
    signal = tone(1000.0, in_rate, 1.0).astype(np.float32)
    out = resampler.process(signal)
    poly = resampler.polyphase
    # every whole chunk whose right-hand context has arrived
    chunk = poly.down * int(np.ceil(512 / poly.down))
    chunks = (in_rate - poly.context) // chunk
    assert len(out) == chunks * chunk * poly.up // poly.down
    whole = resample_poly(signal, poly.up, poly.down)
    np.testing.assert_allclose(out, whole[: len(out)], atol=1e-6)
    # the output sample k sits at input position k * in/out, delayed by nothing
    expected = tone(1000.0, out_rate, len(out) / out_rate)[: len(out)]
    settled = slice(64, len(out))  # past the silence the stream starts from
    assert np.max(np.abs(out[settled] - expected[settled])) < 2e-3


def test_blocks_of_any_size_give_the_same_samples_as_one_block():
    signal = np.random.default_rng(0).standard_normal(20_000).astype(np.float32)
    whole = StreamResampler(48_000, 22_050).process(signal)
    chunked = StreamResampler(48_000, 22_050)
    sizes = np.random.default_rng(1).integers(0, 700, 200)
    pieces, start = [], 0
    for size in sizes:
        pieces.append(chunked.process(signal[start : start + size]))
        start += size
    pieces.append(chunked.process(signal[start:]))
    joined = np.concatenate(pieces)
    assert len(joined) == len(whole)
    np.testing.assert_array_equal(joined, whole)


def test_a_tone_above_the_new_nyquist_does_not_alias():
    out = StreamResampler(48_000, 22_050).process(tone(15_000.0, 48_000, 1.0).astype(np.float32))
    assert np.sqrt(np.mean(out[64:] ** 2)) < 3e-3  # the tone's own RMS is 0.71


def test_reset_starts_the_stream_again():
    resampler = StreamResampler(48_000, 22_050)
    first = resampler.process(tone(440.0, 48_000, 0.2).astype(np.float32))
    resampler.process(np.ones(5000, np.float32))
    resampler.reset()
    again = resampler.process(tone(440.0, 48_000, 0.2).astype(np.float32))
    np.testing.assert_array_equal(first, again)


def test_bad_rates_are_refused():
    with pytest.raises(ValueError, match="sample rates must be positive, got 0 and 22050"):
        StreamResampler(0, 22_050)


def test_the_filter_reach_is_resample_polys():
    assert Polyphase.between(48_000, 22_050) == Polyphase(up=147, down=320, context=320)
    assert Polyphase.between(44_100, 22_050) == Polyphase(up=1, down=2, context=22)


def test_non_finite_samples_read_as_silence_and_are_counted():
    signal = tone(440.0, 48_000, 0.5).astype(np.float32)
    clean = StreamResampler(48_000, 22_050).process(signal)
    damaged = signal.copy()
    damaged[1000] = np.nan
    damaged[2000] = np.inf
    resampler = StreamResampler(48_000, 22_050)
    out = resampler.process(damaged)
    assert resampler.nonfinite_samples == 2 and np.all(np.isfinite(out))
    np.testing.assert_allclose(out[2000:], clean[2000:], atol=1e-6)  # past both, unchanged
