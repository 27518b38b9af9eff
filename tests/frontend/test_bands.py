"""visualizer/frontend/bands.py: the low, mid and high meters, by known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from visualizer.frontend.bands import BAND_EDGES_HZ, BandMeter
from visualizer.frontend.level import METER_SECONDS, SILENT_DB

RATE, BLOCK = 22_050, 512


def sine(hz: float, seconds: float, amplitude: float = 0.5) -> np.ndarray:
    return (amplitude * np.sin(2 * np.pi * hz * np.arange(round(seconds * RATE)) / RATE)).astype(
        np.float32
    )


def heard(samples: np.ndarray, piece: int = 367) -> BandMeter:
    """A meter fed `samples` in pieces of `piece` samples (a 60-fps frame's worth)."""
    meter = BandMeter(RATE, BLOCK)
    for start in range(0, len(samples), piece):
        meter.process(samples[start : start + piece])
    return meter


def crossover_gain_db(hz: float, band: int) -> float:
    """The Linkwitz-Riley response of a band at `hz`, from its formula: a 4th-order
    low-pass's magnitude is 1 / (1 + (f / fc)^4), its high-pass's (f / fc)^4 / (1 + (f /
    fc)^4)."""
    low, high = BAND_EDGES_HZ
    low_pass = lambda edge: 1 / (1 + (hz / edge) ** 4)  # noqa: E731
    gain = [low_pass(low), (1 - low_pass(low)) * low_pass(high), 1 - low_pass(high)][band]
    return 20 * math.log10(gain)


@pytest.mark.parametrize(
    ("hz", "band"), [(90.0, 0), (110.0, 0), (600.0, 1), (900.0, 1), (5000.0, 2)]
)
def test_a_sine_reads_its_level_in_its_own_band_alone(hz, band):
    """A sine of amplitude 0.5 is -6.02 dB (a full-scale one 0 dB), less the crossovers'
    response at its frequency (-0.3 dB in the middle of the mid band), in its band only:
    the others are at least 24 dB down."""
    levels = heard(sine(hz, 2.0)).levels_db
    expected = 20 * math.log10(0.5) + crossover_gain_db(hz, band)
    assert levels[band] == pytest.approx(expected, abs=0.15)
    assert all(level < levels[band] - 24 for index, level in enumerate(levels) if index != band)


def test_at_an_edge_a_sine_is_half_in_each_band():
    """Linkwitz-Riley: -6 dB from each side at the edge frequency."""
    for edge, bands in zip(BAND_EDGES_HZ, ((0, 1), (1, 2)), strict=True):
        levels = heard(sine(edge, 2.0, amplitude=1.0)).levels_db
        for band in bands:
            assert levels[band] == pytest.approx(-6.02, abs=0.5), (edge, levels)


def test_the_meters_fall_over_the_meter_time_and_start_silent():
    """After a tone, the first silent block holds the filters' last ringing; from the next
    one on (digital silence, SILENT_DB), each block takes the meter 1 - exp(-block /
    METER_SECONDS) of the way down."""
    meter = BandMeter(RATE, BLOCK)
    assert meter.levels_db == [SILENT_DB] * 3
    tone = sine(100.0, 1.0)
    meter.process(tone[: len(tone) // BLOCK * BLOCK])
    assert meter.levels_db[0] == pytest.approx(-6.02, abs=0.6)
    meter.process(np.zeros(BLOCK, np.float32))
    rung = meter.levels_db[0]
    blocks = 13  # 0.3 s
    meter.process(np.zeros(blocks * BLOCK, np.float32))
    fall = 1 - math.exp(-BLOCK / RATE / METER_SECONDS)
    assert meter.levels_db[0] == pytest.approx(
        rung + (1 - (1 - fall) ** blocks) * (SILENT_DB - rung), abs=1e-9
    )
    meter.reset()
    assert meter.levels_db == [SILENT_DB] * 3


def test_pieces_of_any_size_read_as_the_whole():
    """The filters' state and a block begun are carried between pieces."""
    music = sine(80.0, 1.5) + sine(900.0, 1.5, 0.2) + sine(6000.0, 1.5, 0.05)
    whole = heard(music, piece=len(music)).levels_db
    for piece in (7, 100, 367, 4096):
        assert heard(music, piece=piece).levels_db == pytest.approx(whole, abs=1e-6)
    assert whole == pytest.approx([-6.02, -13.98, -26.02], abs=0.4)


def test_a_rate_too_low_for_the_bands_is_refused():
    with pytest.raises(ValueError, match="need a rate above 4000 Hz"):
        BandMeter(4000, BLOCK)
