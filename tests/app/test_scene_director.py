"""The scene director: feature glides, the scene memory, beat pulses, hold and bias."""

from __future__ import annotations

import numpy as np
import pytest

from visualizer.app.model_runtime import ModelRuntime
from visualizer.app.scene_director import (
    BIAS,
    DEFAULT_CROSSFADE_SECONDS,
    HOLD,
    MOTION_TRUNCATION,
    SceneDirector,
    SceneMode,
    softmax,
)
from visualizer.bundled import assets_dir


def _director(**options):
    return SceneDirector(
        ("sky", "water"), feature_dim=4, noise_dim=8, frame_seconds=0.02, **options
    )


def test_feature_cross_fades_to_a_new_encoding_in_two_stages_at_any_frame_rate():
    """Two exponential stages in series: after t, 1 - exp(-t/tau) * (1 + t/tau) of the way,
    whether the frames come one second apart or a hundred a second."""
    for frames_per_second in (1, 100):
        director = _director(glide_seconds=1.0)
        director.on_encoding(np.zeros(4, np.float32), np.array([1.0, 0.0]), now=0.0)
        director.step(0.0)
        director.on_encoding(np.ones(4, np.float32), np.array([0.0, 1.0]), now=0.0)
        for index in range(1, 2 * frames_per_second + 1):
            _, feature = director.step(index / frames_per_second)
            if index == frames_per_second:
                np.testing.assert_allclose(feature, 1.0 - 2.0 * np.exp(-1.0), rtol=1e-5)
        np.testing.assert_allclose(feature, 1.0 - 3.0 * np.exp(-2.0), rtol=1e-5)


@pytest.mark.parametrize("crossfade", [0.3, DEFAULT_CROSSFADE_SECONDS, 8.0, 20.0])
def test_a_change_of_scene_takes_the_crossfade_time_from_10_to_90_percent(crossfade):
    director = _director()
    assert director.crossfade_seconds == pytest.approx(DEFAULT_CROSSFADE_SECONDS)
    director.crossfade_seconds = crossfade
    director.on_encoding(np.zeros(4, np.float32), np.array([1.0, 0.0]), now=0.0)
    director.step(0.0)
    director.on_encoding(np.ones(4, np.float32), np.array([0.0, 1.0]), now=0.0)
    frame = 1e-3
    times = np.arange(1, round(3 * crossfade / frame)) * frame
    way = np.array([director.step(t)[1][0] for t in times])
    rise = times[np.argmax(way >= 0.9)] - times[np.argmax(way >= 0.1)]
    # within two frames, and the float32 glide's drift over thousands of steps (2 parts in 10^4)
    assert rise == pytest.approx(crossfade, abs=2 * frame + 2e-4 * crossfade)


def test_a_crossfade_of_no_time_is_refused():
    director = _director()
    for seconds in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="cross-fade takes a finite time > 0"):
            director.crossfade_seconds = seconds


def test_encodings_pass_through_the_scene_memory_and_a_new_source_forgets_it():
    director = _director(glide_seconds=1e-6, memory_seconds=8.0)
    director.on_encoding(np.zeros(4, np.float32), np.array([0.0, 0.0]), now=100.0)
    director.step(0.0)
    director.on_encoding(np.ones(4, np.float32), np.array([0.0, 3.0]), now=108.0)
    _, feature = director.step(1.0)
    remembered = 1.0 - np.exp(-1.0)  # one time constant after the step
    np.testing.assert_allclose(feature, remembered, rtol=1e-5)
    np.testing.assert_allclose(
        director.probabilities, softmax(np.array([0.0, 3.0 * remembered])), rtol=1e-5
    )
    director.forget_music()
    director.on_encoding(np.full(4, -1.0, np.float32), np.array([2.0, 0.0]), now=108.25)
    _, feature = director.step(2.0)
    np.testing.assert_allclose(feature, -1.0, rtol=1e-5)  # the new source's own feature


def _pulse(seconds: float, attack: float = 0.03, decay: float = 0.15) -> float:
    """A strength-1 pulse `seconds` after its beat: exp(-t/decay) - exp(-t/attack), peak 1."""
    peak_time = np.log(decay / attack) * attack * decay / (decay - attack)
    peak = np.exp(-peak_time / decay) - np.exp(-peak_time / attack)
    return (np.exp(-seconds / decay) - np.exp(-seconds / attack)) / peak


def _envelopes_after(director: SceneDirector, start: float) -> tuple[np.ndarray, list[float]]:
    """The beat envelope stepped every 10 ms for 0.39 s after `start`."""
    times = start + np.arange(1, 40) / 100.0
    envelopes = []
    for now in times:
        director.step(now)
        envelopes.append(director.envelope)
    return times, envelopes


def test_a_beat_is_a_bounded_pulse_from_when_its_frame_ended():
    director = _director(pulse_attack_seconds=0.03, pulse_decay_seconds=0.15, pulse_size=0.5)
    steady = np.full(300, 0.01, np.float32)  # 6 s of steady sound
    assert director.on_onsets(steady, end_time=6.0) == 0  # the first value rises: a beat
    director.step(6.0)
    assert director.on_onsets(steady, end_time=12.0) == -1  # steady sound is no beat
    director.step(12.0)
    assert director.envelope == pytest.approx(0.0, abs=1e-12)  # the first pulse has gone
    onsets = np.concatenate([steady[:20], [0.5]]).astype(np.float32)
    assert director.on_onsets(onsets, end_time=13.0) == 20  # its frame ended at 13.0
    times, envelopes = _envelopes_after(director, 13.0)
    np.testing.assert_allclose(envelopes, [_pulse(now - 13.0) for now in times], rtol=1e-6)
    assert max(envelopes) <= 1.0 and times[int(np.argmax(envelopes))] == pytest.approx(13.06)


def test_the_pulse_pushes_the_noise_in_proportion_to_the_reactivity():
    director = _director()
    director.on_onsets(np.array([0.0, 0.5], np.float32), end_time=1.0)
    pushes = {}
    for reactivity in (0.0, 1.0, 2.0):
        director.reactivity = reactivity
        pushes[reactivity] = director.step(1.05)[0].copy()
    assert director.envelope > 0.5
    np.testing.assert_allclose(
        pushes[2.0] - pushes[0.0], 2.0 * (pushes[1.0] - pushes[0.0]), rtol=1e-5, atol=1e-6
    )


def test_hold_and_bias_blend_toward_the_category_prototype():
    director = _director(glide_seconds=1e-6)
    sky, water = np.array([1, 0, 0, 0], np.float32), np.array([0, 1, 0, 0], np.float32)
    director.on_encoding(sky, np.array([2.0, 0.0]), now=0.0)
    director.on_encoding(water, np.array([0.0, 2.0]), now=0.0)
    director.step(0.0)
    director.mode = SceneMode(HOLD, 0)
    _, feature = director.step(1.0)
    np.testing.assert_allclose(feature, sky, atol=1e-6)
    director.mode = SceneMode(BIAS, 0)
    _, feature = director.step(2.0)
    np.testing.assert_allclose(feature, [0.5, 0.5, 0, 0], atol=1e-6)
    np.testing.assert_allclose(director.probabilities, softmax(np.array([0.0, 2.0])))


def test_hold_starts_from_the_models_prototype_then_follows_the_music():
    shipped = np.array([[0, 0, 1, 0], [0, 0, 0, 1]], np.float32)
    director = _director(glide_seconds=1e-6, prototypes=shipped)
    assert director.knows(1)
    director.on_encoding(np.array([1, 0, 0, 0], np.float32), np.array([2.0, 0.0]), now=0.0)
    director.step(0.0)
    director.mode = SceneMode(HOLD, 1)  # water: the music has not produced it yet
    _, feature = director.step(1.0)
    np.testing.assert_allclose(feature, shipped[1], atol=1e-6)
    director.on_encoding(np.array([0, 1, 0, 0], np.float32), np.array([0.0, 2.0]), now=0.0)
    _, feature = director.step(2.0)
    np.testing.assert_allclose(feature, [0, 1, 0, 0], atol=1e-6)  # the music's own water
    assert not _director().knows(1)  # no shipped prototypes: nothing to hold yet


def test_motion_is_scaled_to_the_generators_noise_truncation():
    """A generator that scales its noise by 0.8 gets half the travel and half the pulse of
    one at the tuned 0.4, so the noise it actually sees moves alike."""
    tuned = _director(noise_truncation=MOTION_TRUNCATION, quiet_speed=1.0, busy_speed=1.0)
    wider = _director(noise_truncation=2 * MOTION_TRUNCATION, quiet_speed=1.0, busy_speed=1.0)
    tuned.step(0.0)
    wider.step(0.0)
    np.testing.assert_allclose(wider.step(10.0)[0], tuned.step(5.0)[0], rtol=1e-5, atol=1e-6)
    pushes = {}
    for name, director in (("tuned", tuned), ("wider", wider)):
        director.reactivity = 0.0
        still = director.step(20.0)[0].copy()
        director.on_onsets(np.array([0.0, 0.5], np.float32), end_time=19.95)
        director.reactivity = 1.0
        pushes[name] = director.step(20.0)[0] - still
    assert np.linalg.norm(pushes["tuned"]) > 0.1
    np.testing.assert_allclose(pushes["wider"], 0.5 * pushes["tuned"], rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="noise_truncation"):
        _director(noise_truncation=0.0)


def test_a_director_for_a_runtime_takes_the_generators_noise_truncation():
    runtime = ModelRuntime(assets_dir() / "models")
    truncation = runtime.generator.metadata.training_data["noise_truncation"]
    assert runtime.generator.metadata.noise_truncation() == truncation
    metadata = runtime.metadata
    built = SceneDirector.for_model(runtime, memory_seconds=0.0, seed=5)
    expected = SceneDirector(
        metadata.categories,
        metadata.feature_dim,
        metadata.noise_dim,
        metadata.frontend.frame_seconds,
        seed=5,
        prototypes=np.asarray(metadata.category_prototypes, np.float32),
        noise_truncation=truncation,
    )
    for director in (built, expected):
        director.step(0.0)
        director.mode = SceneMode(HOLD, 1)
    for got, want in zip(built.step(7.0), expected.step(7.0), strict=True):
        np.testing.assert_array_equal(got, want)


def test_a_scene_change_on_the_beat_waits_for_the_next_beat():
    director = _director()
    steady = np.full(50, 0.01, np.float32)
    director.on_onsets(steady, end_time=1.0)  # its first value rises: a beat
    director.on_onsets(steady, end_time=2.0)
    director.step(2.0)
    director.changes_on_beat = True
    director.request_mode(SceneMode(HOLD, 1), now=2.0)
    assert director.mode == SceneMode() and director.pending_mode == SceneMode(HOLD, 1)
    assert director.on_onsets(steady, end_time=2.5) == -1  # steady: no beat, still waiting
    director.step(2.5)
    assert director.mode == SceneMode()
    assert director.on_onsets(np.array([0.01, 0.5], np.float32), end_time=2.6) == 1
    assert director.mode == SceneMode(HOLD, 1) and director.pending_mode is None


def test_a_scene_change_on_the_beat_waits_two_seconds_at_most_and_can_be_taken_back():
    director = _director()
    director.changes_on_beat = True
    director.request_mode(SceneMode(BIAS, 0), now=10.0)
    director.request_mode(SceneMode(HOLD, 0), now=11.0)  # changed its mind: the same wait
    director.step(11.99)
    assert director.mode == SceneMode() and director.pending_mode == SceneMode(HOLD, 0)
    director.step(12.0)
    assert director.mode == SceneMode(HOLD, 0) and director.pending_mode is None
    director.request_mode(SceneMode(), now=13.0)
    director.request_mode(SceneMode(HOLD, 0), now=13.5)  # the mode that runs: nothing waits
    assert director.pending_mode is None
    director.changes_on_beat = False
    director.request_mode(SceneMode(BIAS, 1), now=14.0)  # at once
    assert director.mode == SceneMode(BIAS, 1)


def test_a_scene_change_on_the_bar_waits_for_a_grid_s_bar_or_five_seconds():
    director = _director()
    director.beats_from_onsets = False  # a grid gives the beats
    director.changes_on_bar = True
    director.request_mode(SceneMode(HOLD, 1), now=20.0)
    director.on_beat(0.7, beat_time=20.3)  # the bar's second beat: a pulse, no change
    director.on_beat(0.7, beat_time=20.8)
    assert director.mode == SceneMode() and director.pending_mode == SceneMode(HOLD, 1)
    director.on_beat(1.0, beat_time=21.3, downbeat=True)  # the next bar's first
    assert director.mode == SceneMode(HOLD, 1) and director.pending_mode is None
    director.request_mode(SceneMode(), now=30.0)  # no bar comes: 5 s at most
    director.step(34.99)
    assert director.pending_mode == SceneMode()
    director.step(35.0)
    assert director.mode == SceneMode() and director.pending_mode is None
    director.beats_from_onsets = True  # the music's onsets mark no bars: the next beat
    director.request_mode(SceneMode(BIAS, 0), now=40.0)
    steady = np.full(50, 0.01, np.float32)
    director.on_onsets(steady, end_time=40.5)
    director.on_onsets(np.array([0.01, 0.5], np.float32), end_time=40.6)
    assert director.mode == SceneMode(BIAS, 0)


def test_a_beat_from_links_grid_is_a_pulse_from_its_time_and_onsets_then_make_none():
    director = _director(pulse_attack_seconds=0.03, pulse_decay_seconds=0.15, pulse_size=0.5)
    steady = np.full(300, 0.01, np.float32)
    director.on_onsets(steady, end_time=6.0)
    director.step(12.0)  # the onsets' first pulse has gone
    director.beats_from_onsets = False  # Link's grid gives the beats
    director.changes_on_beat = True
    director.request_mode(SceneMode(HOLD, 1), now=12.0)
    onsets = np.concatenate([steady[:20], [0.5]]).astype(np.float32)
    assert director.on_onsets(onsets, end_time=13.0) == -1  # heard, but not a beat now
    director.step(13.2)
    assert director.envelope == pytest.approx(0.0, abs=1e-12)
    assert director.mode == SceneMode()  # still waiting for a beat
    director.on_beat(1.0, beat_time=13.25)
    assert director.mode == SceneMode(HOLD, 1) and director.pending_mode is None
    times, envelopes = _envelopes_after(director, 13.25)
    np.testing.assert_allclose(envelopes, [_pulse(now - 13.25) for now in times], rtol=1e-6)
