"""Light and colour from the music's feel: CIELAB conversions, the grade, the follower."""

import math

import numpy as np
import pytest

from visualizer.feel import (
    AROUSAL_SPREAD,
    PHOTO_CHROMA,
    PHOTO_LIGHTNESS,
    PHOTO_YELLOWNESS,
    VALENCE_SPREAD,
    ColourTarget,
    FeelFollower,
    colour_target,
    describe_feel,
    grade,
    lab_to_srgb,
    requested_attributes,
    srgb_to_lab,
)
from visualizer.frontend.descriptors import MusicDescriptors
from visualizer.picture_attributes import image_attributes


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
    assert grade(image, colour_target(0.9, -0.7), 0.0) is image


def test_target_formula():
    # the typical feel of real music asks for the photos' typical light and colour
    neutral = colour_target(0.36, 0.0)
    assert neutral == pytest.approx(
        ColourTarget(PHOTO_LIGHTNESS[0], PHOTO_CHROMA[0], PHOTO_YELLOWNESS[0], 0.0)
    )
    # one spread more valence (0.18): lighter, more saturated, yellower
    happier = colour_target(0.36, 0.18)
    assert happier.lightness == pytest.approx(PHOTO_LIGHTNESS[0] + 0.7 * PHOTO_LIGHTNESS[1])
    assert happier.chroma == pytest.approx(PHOTO_CHROMA[0] + 0.3 * PHOTO_CHROMA[1])
    assert happier.yellowness == pytest.approx(PHOTO_YELLOWNESS[0] + 0.8 * PHOTO_YELLOWNESS[1])
    # loud and negative: darker, more saturated, redder; clipped at 2.5 spreads
    assert colour_target(5.0, -5.0) == pytest.approx(
        ColourTarget(
            PHOTO_LIGHTNESS[0] + PHOTO_LIGHTNESS[1] * (-0.7 * 2.5 - 0.3 * 2.5),
            PHOTO_CHROMA[0] + PHOTO_CHROMA[1] * (0.6 * 2.5 - 0.3 * 2.5),
            PHOTO_YELLOWNESS[0] - PHOTO_YELLOWNESS[1] * 0.8 * 2.5,
            3.0 * 5.0,
        )
    )


@pytest.mark.parametrize("strength", [-0.1, 1.5, math.nan, math.inf])
def test_strength_out_of_range_is_refused(strength):
    with pytest.raises(ValueError, match="feel strength must be in"):
        grade(np.zeros((3, 2, 2), np.float32), colour_target(0.0, 0.0), strength)


def attributes_of(image):
    """(lightness, chroma, yellowness, contrast) of one picture [3, H, W] in [-1, 1]."""
    return image_attributes(image[None])[0]


@pytest.mark.parametrize("strength", [0.5, 1.0])
def test_a_picture_moves_its_share_of_the_way_to_the_target(strength):
    image = np.random.default_rng(2).uniform(-0.5, 0.3, (3, 16, 16)).astype(np.float32)
    plain = attributes_of(image)
    target = ColourTarget(lightness=60.0, chroma=25.0, yellowness=12.0, redness=0.0)
    graded = attributes_of(grade(image, target, strength))
    assert graded[0] == pytest.approx((1 - strength) * plain[0] + strength * 60.0, abs=0.5)
    assert graded[2] == pytest.approx((1 - strength) * plain[2] + strength * 12.0, abs=0.5)
    assert graded[1] == pytest.approx((1 - strength) * plain[1] + strength * 25.0, abs=0.5)


def test_happy_music_draws_lighter_yellower_and_sad_darker_bluer():
    image = np.random.default_rng(3).uniform(-0.6, 0.6, (3, 16, 16)).astype(np.float32)
    happy = attributes_of(grade(image, colour_target(0.6, 0.3), 0.5))
    sad = attributes_of(grade(image, colour_target(0.1, -0.3), 0.5))
    assert happy[0] > sad[0] + 5  # lightness
    assert happy[2] > sad[2] + 5  # yellowness
    assert happy[1] > sad[1]  # chroma


def test_follower_glides_from_the_typical_feel_toward_the_newest_window():
    follower = FeelFollower(memory_seconds=2.0)
    follower.step(10.0)
    assert (follower.arousal, follower.valence) == (AROUSAL_SPREAD[0], VALENCE_SPREAD[0])
    follower.update(descriptors(0.8, -0.4))
    assert (follower.arousal, follower.valence) == (AROUSAL_SPREAD[0], VALENCE_SPREAD[0])
    follower.step(12.0)  # one time constant later
    moved = 1.0 - math.exp(-1.0)
    assert follower.arousal == pytest.approx(0.36 + moved * (0.8 - 0.36))
    assert follower.valence == pytest.approx(moved * -0.4)
    for frame in range(1, 601):  # 10 s at 60 fps: small steps, then there
        before = follower.valence
        follower.step(12.0 + frame / 60)
        assert abs(follower.valence - before) < 0.01
    assert follower.valence == pytest.approx(-0.4, abs=0.01)
    follower.reset()
    assert (follower.arousal, follower.valence) == (AROUSAL_SPREAD[0], VALENCE_SPREAD[0])


def test_feel_in_words():
    assert describe_feel(0.36, 0.0) == "moderate, neutral (arousal +0.36, valence +0.00)"
    assert describe_feel(0.6, 0.1) == "energetic, bright (arousal +0.60, valence +0.10)"
    assert describe_feel(0.1, -0.1) == "calm, dark (arousal +0.10, valence -0.10)"


def test_a_conditioned_generator_is_asked_its_share_of_the_way_to_the_target():
    mean = np.array([50.0, 20.0, 0.0, 15.0])
    spread = np.array([10.0, 10.0, 10.0, 5.0])
    base = np.array([1.0, -1.0, 0.5, 0.8])
    target = ColourTarget(lightness=70.0, chroma=20.0, yellowness=-10.0, redness=3.0)
    # target in photo units: lightness +2, chroma 0, yellowness -1; contrast is not asked
    assert np.allclose(requested_attributes(base, target, 0.0, mean, spread), base)
    assert np.allclose(
        requested_attributes(base, target, 0.5, mean, spread), [1.5, -0.5, -0.25, 0.8]
    )
    assert np.allclose(requested_attributes(base, target, 1.0, mean, spread), [2.0, 0.0, -1.0, 0.8])
    with pytest.raises(ValueError, match="feel strength"):
        requested_attributes(base, target, 1.5, mean, spread)
