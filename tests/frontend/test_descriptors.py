"""Music descriptors and feel on synthetic signals with known answers."""

import numpy as np
import pytest

from visualizer.frontend import FrontEndContract, analyse_signal
from visualizer.frontend.descriptors import (
    TEMPO_CONFIRM_SECONDS,
    TEMPO_FORGET_SECONDS,
    DescriptorAnalyser,
    TempoFollower,
    feel,
)

CONTRACT = FrontEndContract()
RATE = CONTRACT.sample_rate
TIME = np.arange(8 * RATE) / RATE


def tones(midi_notes, amplitude=0.2):
    frequencies = [440.0 * 2.0 ** ((note - 69) / 12) for note in midi_notes]
    return sum(amplitude * np.sin(2 * np.pi * f * TIME) for f in frequencies).astype(np.float32)


def clicks(per_second, amplitude=0.5):
    signal = np.zeros(TIME.size, dtype=np.float32)
    step = int(RATE / per_second)
    for start in range(RATE // 20, signal.size - 50, step):  # from 50 ms on
        signal[start : start + 50] = amplitude * np.hanning(50)
    return signal


def describe(signal):
    features, _ = analyse_signal(signal, CONTRACT)
    return DescriptorAnalyser(CONTRACT).describe(features[0])


@pytest.mark.parametrize(
    ("notes", "key"),
    [((60, 64, 67), "C major"), ((62, 66, 69), "D major"), ((57, 60, 64), "A minor"),
     ((64, 67, 71), "E minor")],
)  # fmt: skip
def test_a_triad_names_its_key_and_mode(notes, key):
    described = describe(tones(notes))
    assert described.key == key
    assert (described.mode > 0.15) == key.endswith("major")
    assert (described.mode < -0.15) == key.endswith("minor")


def test_a_major_triad_feels_more_positive_than_its_relative_minor():
    assert describe(tones((60, 64, 67))).valence > describe(tones((57, 60, 64))).valence + 0.3


def test_loudness_follows_the_gain_in_db():
    sine = np.sin(2 * np.pi * 440.0 * TIME).astype(np.float32)
    loud, soft = describe(0.5 * sine), describe(0.05 * sine)
    # within 0.1 dB: the first frames, partly before the signal starts, read lower
    assert loud.loudness_db == pytest.approx(20 * np.log10(0.5), abs=0.1)
    assert loud.loudness_db - soft.loudness_db == pytest.approx(20.0, abs=0.01)
    assert loud.arousal > soft.arousal


@pytest.mark.parametrize("rate", [1.0, 2.0, 4.0, 8.0])
def test_onset_rate_counts_clicks(rate):
    assert describe(clicks(rate)).onset_rate == pytest.approx(rate, rel=0.05)


def test_fast_clicks_have_more_arousal_than_slow_ones():
    assert describe(clicks(8.0)).arousal > describe(clicks(1.0)).arousal + 0.3


def test_centroid_of_a_sine_is_its_frequency():
    described = describe((0.3 * np.sin(2 * np.pi * 1000.0 * TIME)).astype(np.float32))
    assert described.centroid_hz == pytest.approx(1000.0, rel=0.01)


def test_silence_has_no_key_and_no_onsets():
    described = describe(np.zeros(TIME.size, dtype=np.float32))
    assert described.key == "none"
    assert described.mode == 0.0
    assert described.onset_rate == 0.0


def test_feel_formula_at_its_anchor_points():
    assert feel(-15.0, 8.0, 1500.0 * 2**1.5, 0.5) == pytest.approx((1.0, 1.0))
    assert feel(-45.0, 0.5, 1500.0 / 2**1.5, -0.5) == pytest.approx((-1.0, -1.0))
    assert feel(-30.0, 2.0, 1500.0, 0.0) == pytest.approx((0.0, 0.0))


def test_a_window_of_the_wrong_shape_is_refused():
    with pytest.raises(ValueError, match="expected a power window"):
        DescriptorAnalyser(CONTRACT).describe(np.zeros((512, 10), np.float32))


def test_silence_before_the_music_is_left_out():
    music = tones((60, 64, 67)) + clicks(4.0)
    alone = describe(music)
    late = describe(np.concatenate([np.zeros(TIME.size, np.float32), music]))
    assert late.loudness_db == pytest.approx(alone.loudness_db, abs=0.2)
    assert late.onset_rate == pytest.approx(alone.onset_rate, rel=0.05)
    assert late.key == alone.key


def test_chroma_weights_give_the_chroma():
    analyser = DescriptorAnalyser(CONTRACT)
    features, _ = analyse_signal(tones((60, 64, 67)), CONTRACT)
    linear = analyser.linear_power(features[0][:, :300])
    weights = analyser.chroma_weights()
    assert weights.shape == (12, CONTRACT.n_bins) and set(np.unique(weights)) == {0.0, 1.0}
    assert weights.sum(axis=0).max() == 1.0  # each bin adds to one pitch class at most
    np.testing.assert_allclose(
        weights @ np.sqrt(linear).sum(axis=1), analyser.chroma(linear), rtol=1e-6
    )
    # C major's notes are the loudest pitch classes: C, E and G
    assert set(np.argsort(analyser.chroma(linear))[-3:]) == {0, 4, 7}
    # linear_power reads u contract units as (u - 1) * units_to_db dB
    assert analyser.linear_power(np.full((CONTRACT.n_bins, 1), 0.5))[0, 0] == pytest.approx(
        10.0 ** (-0.5 * analyser.units_to_db / 10.0), rel=1e-5
    )


def beats_at(bpm: float, seconds: float = 16.0, drums: bool = False) -> np.ndarray:
    """Clicks on every beat, or a drum pattern (a kick on beats 1 and 3, a snare on 2 and
    4, hi-hats on the eighths), from 50 ms on."""
    signal = np.zeros(int(seconds * RATE), dtype=np.float32)
    noise = np.random.default_rng(2).standard_normal(signal.size).astype(np.float32)
    eighth = 30.0 / bpm
    for index in range(int(seconds / eighth)):
        start = int((0.05 + index * eighth) * RATE)
        if start + 2000 >= signal.size:
            break
        if not drums:
            if index % 2 == 0:
                signal[start : start + 50] += 0.5 * np.hanning(50)
            continue
        decay = np.exp(-np.arange(2000) / 400.0)
        signal[start : start + 400] += 0.1 * noise[start : start + 400] * np.hanning(400)
        if index % 4 == 0:
            signal[start : start + 2000] += (
                0.6 * np.sin(2 * np.pi * 60 * np.arange(2000) / RATE) * decay
            )
        elif index % 4 == 2:
            signal[start : start + 1500] += 0.4 * noise[start : start + 1500] * decay[:1500] ** 1.3
    return signal


@pytest.mark.parametrize("bpm", [60.0, 90.0, 120.0, 128.0, 150.0, 174.0])
def test_a_click_track_reads_its_tempo_within_half_a_bpm(bpm):
    described = describe(beats_at(bpm))
    assert described.tempo_bpm == pytest.approx(bpm, abs=0.5)
    assert described.pulse_clarity > 0.7


@pytest.mark.parametrize("bpm", [95.0, 110.0, 125.0])
def test_a_drum_pattern_reads_its_tempo(bpm):
    assert describe(beats_at(bpm, drums=True)).tempo_bpm == pytest.approx(bpm, abs=1.0)


def test_clicks_faster_than_the_range_read_at_half_their_tempo():
    assert describe(beats_at(240.0)).tempo_bpm == pytest.approx(120.0, abs=0.5)


def test_no_steady_pulse_reads_no_tempo():
    rng = np.random.default_rng(1)
    noise = describe((0.1 * rng.standard_normal(16 * RATE)).astype(np.float32))
    assert noise.tempo_bpm is None and noise.pulse_clarity < 0.2
    assert describe(tones((60, 64, 67))).tempo_bpm is None  # a held chord
    assert describe(np.zeros(16 * RATE, dtype=np.float32)).tempo_bpm is None
    short = describe(beats_at(120.0, seconds=3.0))  # under 4 s of sound
    assert short.tempo_bpm is None
    assert short.sounding_seconds == pytest.approx(3.0 - 0.05, abs=0.05)  # from 50 ms on


def followed(readings, step=0.25):
    """The tempo a TempoFollower shows after each of `readings`, taken `step` s apart."""
    follower = TempoFollower()
    return [follower.update(reading, index * step) for index, reading in enumerate(readings)]


def test_the_followed_tempo_keeps_through_a_moments_other_reading_and_follows_a_drift():
    # a window reading two thirds or half of the pulse for a moment does not show
    assert followed([120.0, 120.0, 80.0, 60.0, 120.0, 60.0, 60.0]) == [120.0] * 7
    # readings within 3% are one tempo: shown as they come
    assert followed([120.0, 121.5, 123.0, 124.0]) == [120.0, 121.5, 123.0, 124.0]


def test_another_tempo_shows_once_read_for_two_seconds_without_a_break():
    shown = followed([100.0] * 4 + [140.0] * 12)  # 140 first read at 1.0 s
    change = 4 + round(TEMPO_CONFIRM_SECONDS / 0.25)  # the reading at 3.0 s
    assert shown[:change] == [100.0] * change
    assert shown[change:] == [140.0] * (len(shown) - change)
    # a break (a reading of the old tempo) starts the two seconds again
    shown = followed([100.0] + [140.0] * 7 + [100.0] + [140.0] * 9)
    assert shown[: 9 + 8] == [100.0] * 17 and shown[17] == 140.0


def test_the_followed_tempo_goes_after_four_seconds_without_a_reading_and_on_reset():
    forget = round(TEMPO_FORGET_SECONDS / 0.25)  # the reading at 4.0 s
    shown = followed([128.0] + [None] * (forget + 1))
    assert shown[:forget] == [128.0] * forget and shown[forget:] == [None, None]
    # readings of another tempo are not the shown one's: it goes all the same
    shown = followed([128.0] + [90.0, None] * forget)
    assert shown[forget - 1] == 128.0 and shown[forget] is None
    assert followed([None, None]) == [None, None]
    follower = TempoFollower()
    follower.update(90.0, 0.0)
    follower.reset()
    assert follower.bpm is None and follower.update(150.0, 0.25) == 150.0
