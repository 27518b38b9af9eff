"""Light and colour from the music's feel: CIELAB conversions, the grade, the follower."""

import math

import numpy as np
import pytest

from visualizer.feel import (
    ColourShift,
    FeelFollower,
    colour_shift,
    grade,
    lab_to_srgb,
    picture_attributes,
    srgb_to_lab,
)
from visualizer.frontend.descriptors import MusicDescriptors


def descriptors(arousal, valence):
    return MusicDescriptors(-20.0, 2.0, 1000.0, 0.0, "C major", arousal, valence)


@pytest.mark.parametrize(
    ("rgb", "lab"),
    [
        ((1.0, 1.0, 1.0), (100.0, 0.0, 0.0)),
        ((0.0, 0.0, 0.0), (0.0, 0.0, 0.0)),
        ((1.0, 0.0, 0.0), (53.2408, 80.0925, 67.2032)),
        ((0.0, 0.0, 1.0), (32.2970, 79.1875, -107.8602)),
    ],
)
def test_srgb_to_lab_known_colours(rgb, lab):
    assert srgb_to_lab(np.asarray(rgb)) == pytest.approx(lab, abs=1e-3)


def test_lab_round_trip():
    rgb = np.random.default_rng(0).uniform(0, 1, (500, 3))
    assert np.abs(lab_to_srgb(srgb_to_lab(rgb)) - rgb).max() < 1e-9


def test_strength_zero_changes_nothing():
    image = np.random.default_rng(1).uniform(-1, 1, (3, 8, 8)).astype(np.float32)
    assert colour_shift(0.9, -0.7, 0.0) == ColourShift()
    assert grade(image, colour_shift(0.9, -0.7, 0.0)) is image


def test_shift_formula_at_full_strength():
    shift = colour_shift(1.0, 1.0, 1.0)
    assert shift == ColourShift(lightness=8.0, saturation=1.5, yellowness=10.0, redness=0.0)
    shift = colour_shift(1.0, -1.0, 1.0)
    assert shift == ColourShift(lightness=-16.0, saturation=1.2, yellowness=-10.0, redness=6.0)


@pytest.mark.parametrize("strength", [-0.1, 2.5, math.nan, math.inf])
def test_strength_out_of_range_is_refused(strength):
    with pytest.raises(ValueError, match="feel strength must be in"):
        colour_shift(0.0, 0.0, strength)


def test_happy_music_draws_lighter_yellower_and_sad_darker_bluer():
    rng = np.random.default_rng(2)
    image = rng.uniform(-0.6, 0.6, (3, 16, 16)).astype(np.float32)

    def attributes(arousal, valence):
        graded = grade(image, colour_shift(arousal, valence, 1.0))
        return picture_attributes(np.round((graded.transpose(1, 2, 0) + 1) * 127.5))

    plain = picture_attributes(np.round((image.transpose(1, 2, 0) + 1) * 127.5))
    happy, sad = attributes(0.5, 0.8), attributes(-0.5, -0.8)
    assert happy.lightness == pytest.approx(plain.lightness + 12 * 0.8 - 4 * 0.5, abs=0.6)
    assert sad.lightness == pytest.approx(plain.lightness - 12 * 0.8 + 4 * 0.5, abs=0.6)
    assert happy.yellowness > plain.yellowness + 7 > sad.yellowness + 14
    assert happy.chroma > plain.chroma > sad.chroma


def test_follower_takes_the_first_value_then_moves_exponentially():
    follower = FeelFollower(memory_seconds=2.0)
    follower.update(descriptors(0.8, -0.4), now=10.0)
    assert (follower.arousal, follower.valence) == (0.8, -0.4)
    follower.update(descriptors(-0.2, 0.6), now=12.0)  # one time constant later
    keep = math.exp(-1.0)
    assert follower.arousal == pytest.approx(keep * 0.8 - (1 - keep) * 0.2)
    assert follower.valence == pytest.approx(-keep * 0.4 + (1 - keep) * 0.6)
    follower.reset()
    follower.update(descriptors(0.1, 0.2), now=13.0)
    assert (follower.arousal, follower.valence) == (0.1, 0.2)
