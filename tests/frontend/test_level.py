"""The music's level and the live input's automatic gain, on signals with known levels."""

from __future__ import annotations

import math

import numpy as np
import pytest

from visualizer.frontend.level import (
    MAX_GAIN_DB,
    MIN_GAIN_DB,
    LevelFollower,
    block_levels_db,
    music_level_db,
    track_level_db,
)

RATE = 22_050
BLOCK = 512
# 8 whole periods in every block, so each block's mean square is exactly amplitude^2 / 2.
WHOLE_PERIODS_HZ = RATE * 8 / BLOCK


def sine(level_db: float, seconds: float) -> np.ndarray:
    """A sine of `level_db` lasting whole blocks, the nearest number to `seconds`."""
    t = np.arange(round(seconds * RATE / BLOCK) * BLOCK) / RATE
    amplitude = 10.0 ** (level_db / 20.0)
    return (amplitude * np.sin(2 * np.pi * WHOLE_PERIODS_HZ * t)).astype(np.float32)


def fed(follower: LevelFollower, signal: np.ndarray, reference_db: float, piece: int = 367):
    """`signal` through `follower` in pieces as the app's worker hands them over."""
    return follower.process_in_pieces(signal, reference_db, piece)


def test_a_full_scale_sine_reads_0_db_and_one_tenth_of_it_minus_20():
    assert block_levels_db(sine(0.0, 1.0), BLOCK) == pytest.approx(0.0, abs=1e-4)
    assert block_levels_db(sine(-20.0, 1.0), BLOCK) == pytest.approx(-20.0, abs=1e-4)
    assert len(block_levels_db(sine(0.0, 1.0), BLOCK)) == RATE // BLOCK
    assert len(block_levels_db(np.zeros(BLOCK - 1), BLOCK)) == 0


def test_a_tracks_level_leaves_out_silence_and_its_noise_floor():
    music = block_levels_db(sine(-30.0, 7.0), BLOCK)
    floor = block_levels_db(sine(-65.0, 3.0), BLOCK)  # above the gate, 35 dB under the music
    silence = block_levels_db(np.zeros(RATE * 2, np.float32), BLOCK)
    levels = np.concatenate([silence, music, floor, silence])
    assert track_level_db(levels) == pytest.approx(-30.0, abs=1e-4)
    assert track_level_db(silence) is None


def test_the_music_level_is_the_median_track_and_silent_tracks_do_not_count():
    assert music_level_db([-20.0, None, -14.0, -30.0]) == -20.0
    with pytest.raises(ValueError, match="silent"):
        music_level_db([None, None])


def test_a_quiet_input_is_brought_to_the_reference():
    follower = LevelFollower(BLOCK, RATE, seconds=2.0)
    out = fed(follower, sine(-40.0, 6.0), reference_db=-17.0)
    assert follower.level_db == pytest.approx(-40.0, abs=1e-4)
    assert follower.gain_db == pytest.approx(23.0, abs=1e-4)
    assert block_levels_db(out[-RATE:], BLOCK) == pytest.approx(-17.0, abs=1e-3)


@pytest.mark.parametrize(
    ("level_db", "expected_gain"), [(0.0, MIN_GAIN_DB), (-60.0, MAX_GAIN_DB), (-80.0, 0.0)]
)
def test_the_gain_is_bounded_and_a_signal_under_the_gate_is_left_alone(level_db, expected_gain):
    follower = LevelFollower(BLOCK, RATE, seconds=2.0)
    fed(follower, sine(level_db, 3.0), reference_db=-17.0)
    assert follower.gain_db == pytest.approx(expected_gain, abs=1e-4)


def test_the_gain_holds_through_silence_and_a_noise_floor_between_songs():
    follower = LevelFollower(BLOCK, RATE, seconds=2.0)
    fed(follower, sine(-40.0, 6.0), reference_db=-17.0)
    fed(follower, np.zeros(BLOCK * 200, np.float32), reference_db=-17.0)
    fed(follower, sine(-62.0, 5.0), reference_db=-17.0)  # 22 dB under the music
    assert follower.level_db == pytest.approx(-40.0, abs=1e-4)
    assert follower.gain_db == pytest.approx(23.0, abs=1e-4)


def test_a_level_change_is_followed_with_the_time_constant():
    seconds = 2.0
    follower = LevelFollower(BLOCK, RATE, seconds=seconds)
    fed(follower, sine(-40.0, 20.0), reference_db=-17.0)  # long past the running mean
    blocks = 100
    fed(follower, sine(-20.0, blocks * BLOCK / RATE), reference_db=-17.0)
    remaining = math.exp(-blocks * BLOCK / RATE / seconds)
    assert follower.level_db == pytest.approx(-20.0 - 20.0 * remaining, abs=1e-6)


def test_the_first_block_sets_the_level_and_a_running_mean_follows():
    follower = LevelFollower(BLOCK, RATE, seconds=20.0)
    fed(follower, sine(-30.0, BLOCK / RATE), reference_db=-17.0, piece=BLOCK)
    assert follower.level_db == pytest.approx(-30.0, abs=1e-4)
    fed(follower, sine(-20.0, BLOCK / RATE), reference_db=-17.0, piece=BLOCK)
    assert follower.level_db == pytest.approx(-25.0, abs=1e-4)  # the mean of the two


def test_the_gain_moves_without_steps():
    follower = LevelFollower(BLOCK, RATE, seconds=2.0)
    signal = np.ones(RATE * 2, np.float32) * np.float32(10 ** (-40 / 20))
    gains = fed(follower, signal, reference_db=-17.0) / signal
    # A constant of amplitude a reads as a sine of amplitude a * sqrt(2): -36.99 dB.
    expected_gain_db = -17.0 - 10 * math.log10(2 * 0.01**2)
    assert gains[-1] == pytest.approx(10 ** (expected_gain_db / 20), rel=1e-5)
    # The largest change between neighbouring samples: a small share of the whole rise.
    assert np.abs(np.diff(gains)).max() < 0.003 * gains[-1]


def test_reset_forgets_the_level_and_the_gain():
    follower = LevelFollower(BLOCK, RATE, seconds=2.0)
    fed(follower, sine(-40.0, 2.0), reference_db=-17.0)
    follower.reset()
    assert follower.level_db is None and follower.gain_db == 0.0
    assert follower.target_gain_db(-17.0) == 0.0


def test_a_bad_configuration_is_refused():
    with pytest.raises(ValueError, match="seconds"):
        LevelFollower(BLOCK, RATE, seconds=0.0)
    with pytest.raises(ValueError, match="block"):
        LevelFollower(0, RATE)


def test_a_files_level_is_read_from_the_decoded_file(tmp_path):
    import soundfile as sf

    from visualizer.frontend import FrontEndContract
    from visualizer.frontend.level import file_level_db

    path = tmp_path / "quiet.wav"
    quiet = sine(-30.0, 20.0)
    sf.write(path, np.concatenate([np.zeros(BLOCK * 40, np.float32), quiet]), RATE, "FLOAT")
    assert file_level_db(path, FrontEndContract(sample_rate=RATE, hop=BLOCK)) == pytest.approx(
        -30.0, abs=1e-3
    )


def test_without_a_reference_the_gain_returns_to_0_db_without_a_step():
    follower = LevelFollower(BLOCK, RATE, seconds=2.0)
    fed(follower, sine(-40.0, 4.0), reference_db=-17.0)
    held = 10 ** (23 / 20)
    constant = np.full(1000, 0.01, np.float32)
    gains = follower.process(constant, None) / constant
    assert follower.gain_db == 0.0
    assert gains[0] == pytest.approx(held - (held - 1) / 1000, rel=1e-5)
    assert gains[-1] == pytest.approx(1.0, rel=1e-5)


def test_the_meter_rises_at_once_and_falls_over_a_third_of_a_second():
    follower = LevelFollower(BLOCK, RATE)
    fed(follower, sine(-75.0, 6.0), reference_db=-17.0)  # under the gate: not followed
    assert follower.level_db is None
    assert follower.meter_db == pytest.approx(-75.0, abs=1e-3)
    fed(follower, np.zeros(BLOCK * 400, np.float32), reference_db=-17.0)
    assert follower.meter_db == pytest.approx(-120.0, abs=1e-3)
    fed(follower, sine(-20.0, BLOCK / RATE), reference_db=-17.0, piece=BLOCK)
    assert follower.meter_db == pytest.approx(-20.0, abs=1e-4)  # up at once
    fed(follower, np.zeros(BLOCK, np.float32), reference_db=-17.0, piece=BLOCK)
    fall = 1.0 - math.exp(-BLOCK / RATE / 0.3)  # down over 0.3 s
    assert follower.meter_db == pytest.approx(-20.0 + fall * (-120.0 + 20.0), abs=1e-4)


def test_a_sample_at_full_scale_is_clipping_for_the_next_two_seconds():
    follower = LevelFollower(BLOCK, RATE)
    quiet = sine(-20.0, 1.0)
    follower.process(quiet, -17.0)
    assert not follower.clipping
    clipped = quiet.copy()
    clipped[100] = 1.0
    follower.process(clipped, -17.0)
    assert follower.clipping  # 1.0 s of samples after it
    follower.process(quiet[: round(0.9 * RATE)], -17.0)
    assert follower.clipping  # 1.9 s
    follower.process(quiet[: round(0.2 * RATE)], -17.0)
    assert not follower.clipping  # 2.1 s
    follower.process(-np.ones(1, np.float32), -17.0)  # negative full scale too
    assert follower.clipping
    follower.reset()
    assert not follower.clipping


def test_a_lower_level_that_goes_on_ten_seconds_is_followed_afresh():
    """A loud knock before the music, or the input's gain turned down by more than the
    relative gate, must not lock the gain: 10 s of the new level and it is followed."""
    follower = LevelFollower(BLOCK, RATE, seconds=2.0)
    fed(follower, sine(-5.0, 0.5), reference_db=-17.0)  # the knock
    fed(follower, sine(-30.0, 9.0), reference_db=-17.0)  # 25 dB under it: a pause so far
    assert follower.level_db == pytest.approx(-5.0, abs=1e-4)
    fed(follower, sine(-30.0, 2.0), reference_db=-17.0)  # 11 s: a new level
    assert follower.level_db == pytest.approx(-30.0, abs=1e-4)
    assert follower.gain_db == pytest.approx(13.0, abs=1e-4)
