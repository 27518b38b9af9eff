"""Turns encoder results and the onset stream into the generator's inputs at display rate.

Everything the generator sees is a smooth function of display time, so every displayed
frame moves, also those that see no new analysis frame (the STFT hop is longer than a
60-fps frame):

- Encoder results pass through the scene memory (`memory_seconds`, the model's
  `scene_memory_seconds` unless the user sets another): the scene follows the music's
  character over the last phrase or so instead of flipping with every window.
- The conditioning feature follows the remembered feature through two exponential stages
  in series (time constant `glide_seconds` each, updated exactly for any frame interval), so
  a change of scene is an S-shaped cross-fade through the generator that takes
  GLIDE_RISE_TIME_CONSTANTS time constants from 10% to 90% (`crossfade_seconds`, 1.5 s
  unless the performer sets another), never a jump; holding or releasing
  a category cross-fades the same way, and so does the start: the picture fades from the
  generator's neutral scene (the zero feature) into the first music it hears.
- The noise travels around a circle at a speed that follows the music's energy (the
  running level of its onsets): slowly in quiet passages, faster when the music is busy.
- A beat is a pulse: from the moment its analysis frame ended, the beat envelope (0-1)
  rises fast (time constant `pulse_attack_seconds`) toward the beat's strength times the
  headroom left above the envelope, and falls back slowly (`pulse_decay_seconds`): a
  difference of two exponentials. The envelope pushes the noise along a direction that
  turns slowly (one turn per `pulse_turn_seconds`), scaled by `pulse_size` and
  `reactivity`, so a beat moves the picture a bounded step each frame instead of drawing a
  new picture. A beat is a rise of the spectral flux above its running mean, measured
  against the recent peak of such rises, so steady sound never reads as beats and loud and
  quiet music move the picture alike.
- The speeds and the pulse are tuned for a generator that scales its noise by
  `MOTION_TRUNCATION` (the truncation inside generator.onnx, `noise_truncation`); for one
  that scales it by another factor they are scaled by `MOTION_TRUNCATION / noise_truncation`,
  so that what the generator sees moves alike and so does the picture.
- Scene changes on the beat (`changes_on_beat`, the performer's choice): a new scene mode
  asked for (`request_mode`) waits for the next beat, at most MAX_BEAT_WAIT_SECONDS, so
  the cross-fade starts on the music's pulse instead of on the key press. On the bar
  (`changes_on_bar`): it waits for the next bar's first beat, which only a beat grid marks
  (Link, a MIDI clock, taps), at most MAX_BAR_WAIT_SECONDS; with the music's onsets, which
  mark no bars, for the next beat.
- Scene mode: "auto" lets the music choose; holding or biasing a category blends the
  feature toward that category's prototype: the model file's prototype at first (when
  it ships one), then the running mean of the features the encoder produced while that
  category scored highest, so a held scene takes on the colour of the music playing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from visualizer.scene_memory import SceneMemory

if TYPE_CHECKING:
    from visualizer.app.model_runtime import ModelRuntime

AUTO = "auto"
HOLD = "hold"
BIAS = "bias"
MODE_WEIGHT = {HOLD: 1.0, BIAS: 0.5}
MOTION_TRUNCATION = 0.4
DEFAULT_REACTIVITY = 1.0  # how far beats move the picture: 1 = as designed, 0 = not at all
MAX_REACTIVITY = 3.0
# Two exponential stages in series reach 1 - (1 + x) exp(-x) of a step after x time
# constants: 10% at x = 0.5318, 90% at x = 3.8897.
GLIDE_RISE_TIME_CONSTANTS = 3.35791
DEFAULT_CROSSFADE_SECONDS = 1.5  # a change of scene, 10% to 90%
MIN_CROSSFADE_SECONDS = 0.3  # shorter reads as a cut, which the glide exists to avoid
MAX_CROSSFADE_SECONDS = 20.0
MAX_BEAT_WAIT_SECONDS = 2.0  # a scene change on the beat waits at most this long for one
MAX_BAR_WAIT_SECONDS = 5.0  # one on the bar, for a bar's first beat (a 4/4 bar at 48 BPM)


def softmax(scores: np.ndarray) -> np.ndarray:
    shifted = np.asarray(scores, dtype=np.float64) - np.max(scores)
    weights = np.exp(shifted)
    return (weights / weights.sum()).astype(np.float32)


@dataclass(frozen=True)
class SceneMode:
    kind: str = AUTO  # AUTO, HOLD or BIAS
    category: int = 0

    def describe(self, categories: tuple[str, ...]) -> str:
        if self.kind == AUTO:
            return "auto (the music chooses)"
        verb = "held" if self.kind == HOLD else "biased toward"
        return f"{verb} {categories[self.category]}"


class SceneDirector:
    def __init__(
        self,
        categories: tuple[str, ...],
        feature_dim: int,
        noise_dim: int,
        frame_seconds: float,
        seed: int = 0,
        glide_seconds: float = DEFAULT_CROSSFADE_SECONDS / GLIDE_RISE_TIME_CONSTANTS,
        drift_seconds: float = 20.0,
        quiet_speed: float = 0.3,
        busy_speed: float = 2.0,
        energy_seconds: float = 1.0,
        pulse_attack_seconds: float = 0.03,
        pulse_decay_seconds: float = 0.15,
        pulse_turn_seconds: float = 8.0,
        pulse_size: float = 0.6,
        peak_decay_seconds: float = 6.0,
        mean_seconds: float = 1.0,
        beat_threshold: float = 0.55,
        prototypes: np.ndarray | None = None,
        memory_seconds: float = 0.0,
        noise_truncation: float = MOTION_TRUNCATION,
    ):
        if not 0.0 < noise_truncation <= 1.0:
            raise ValueError(f"noise_truncation must be in (0, 1], got {noise_truncation}")
        self.categories = categories
        self._motion_scale = MOTION_TRUNCATION / noise_truncation
        self._rng = np.random.default_rng(seed)
        self.glide_seconds = glide_seconds
        self.memory = SceneMemory(memory_seconds)
        self._last_encoding: float | None = None
        self.drift_seconds = drift_seconds
        self.quiet_speed = quiet_speed
        self.busy_speed = busy_speed
        self.pulse_attack_seconds = pulse_attack_seconds
        self.pulse_decay_seconds = pulse_decay_seconds
        self.pulse_turn_seconds = pulse_turn_seconds
        self.pulse_size = pulse_size
        self.reactivity = DEFAULT_REACTIVITY
        self.mode = SceneMode()
        self.changes_on_beat = False
        self.changes_on_bar = False
        self.beats_from_onsets = True  # False while Link's grid gives the beats (on_beat)
        self.pending_mode: SceneMode | None = None  # asked for, waiting for the next beat
        self._pending_deadline = math.inf
        self.beat_threshold = beat_threshold
        self._peak_decay = math.exp(-frame_seconds / peak_decay_seconds)
        self._mean_decay = math.exp(-frame_seconds / mean_seconds)
        self._energy_decay = math.exp(-frame_seconds / energy_seconds)
        self._mean = 0.0
        self._feature = np.zeros(feature_dim, dtype=np.float32)
        self._glide_middle = np.zeros(feature_dim, dtype=np.float32)  # the first stage
        self._target = np.zeros(feature_dim, dtype=np.float32)
        self._prototypes = np.zeros((len(categories), feature_dim), dtype=np.float32)
        self._prototype_counts = np.zeros(len(categories), dtype=np.int64)
        self._shipped = prototypes is not None and len(prototypes) > 0
        if self._shipped:
            self._prototypes[:] = prototypes
        scale = math.sqrt(noise_dim)
        self._circle_a = self._unit(noise_dim) * scale
        self._circle_b = self._unit(noise_dim) * scale
        self._pulse_a = self._unit(noise_dim) * scale
        self._pulse_b = self._unit(noise_dim) * scale
        self._noise = np.zeros(noise_dim, dtype=np.float32)
        self._peak = 1e-6
        self._previous_level = 0.0
        self.energy = 0.0  # running onset level, 0-1
        self.envelope = 0.0  # the beat pulse, 0-1, at the last step
        self._phase = 0.0
        self._pending_beat = 0.0  # strength of a beat heard since the last step, 0 = none
        self._pulse_start: float | None = None
        self._pulse_from = 0.0
        self._pulse_strength = 0.0
        self._pending_beat_time = math.inf
        self._frame_seconds = frame_seconds
        self.probabilities = np.full(len(categories), 1.0 / len(categories), dtype=np.float32)
        self._last_step: float | None = None

    @classmethod
    def for_model(
        cls, runtime: ModelRuntime, memory_seconds: float, seed: int = 0
    ) -> SceneDirector:
        """The director for a runtime's models: the encoder's categories, sizes, frame rate
        and prototypes, the generator's noise truncation."""
        metadata = runtime.metadata
        return cls(
            metadata.categories,
            metadata.feature_dim,
            metadata.noise_dim,
            metadata.frontend.frame_seconds,
            seed=seed,
            prototypes=np.asarray(metadata.category_prototypes, dtype=np.float32),
            memory_seconds=memory_seconds,
            noise_truncation=runtime.generator.metadata.noise_truncation(),
        )

    @property
    def crossfade_seconds(self) -> float:
        """How long a change of scene takes from 10% to 90% of the way."""
        return self.glide_seconds * GLIDE_RISE_TIME_CONSTANTS

    @crossfade_seconds.setter
    def crossfade_seconds(self, seconds: float) -> None:
        if not (math.isfinite(seconds) and seconds > 0.0):
            raise ValueError(f"a cross-fade takes a finite time > 0, got {seconds}")
        self.glide_seconds = seconds / GLIDE_RISE_TIME_CONSTANTS

    def _unit(self, size: int) -> np.ndarray:
        vector = self._rng.standard_normal(size)
        return (vector / np.linalg.norm(vector)).astype(np.float32)

    def knows(self, category: int) -> bool:
        """Whether there is a prototype to hold `category` with: the model's, or one the
        music has produced."""
        return self._shipped or bool(self._prototype_counts[category] > 0)

    def forget_music(self) -> None:
        """A new source: the memory starts afresh (the picture still glides from where it is)."""
        self.memory.reset()
        self._last_encoding = None

    def on_encoding(self, feature: np.ndarray, scores: np.ndarray, now: float) -> None:
        """An encoder result that arrived at `now` (seconds)."""
        elapsed = 0.0 if self._last_encoding is None else max(0.0, now - self._last_encoding)
        self._last_encoding = now
        feature, scores = self.memory.update(feature, scores, elapsed)
        self.probabilities = softmax(scores)
        winner = int(np.argmax(scores))
        self._prototype_counts[winner] += 1
        rate = 1.0 / min(self._prototype_counts[winner], 20)  # mean, then a moving mean
        self._prototypes[winner] += rate * (feature - self._prototypes[winner])
        self._target[:] = feature

    def request_mode(self, mode: SceneMode, now: float) -> None:
        """Change the scene mode: at once, or with `changes_on_beat` at the next beat the
        onsets bring (at the latest MAX_BEAT_WAIT_SECONDS after the first request that is
        still waiting). Asking for the mode that runs cancels a waiting one."""
        if mode == self.mode:
            self.pending_mode = None
        elif self.changes_on_beat or self.changes_on_bar:
            if self.pending_mode is None:
                wait = MAX_BAR_WAIT_SECONDS if self.changes_on_bar else MAX_BEAT_WAIT_SECONDS
                self._pending_deadline = now + wait
            self.pending_mode = mode
        else:
            self.mode, self.pending_mode = mode, None

    def _apply_pending_mode(self) -> None:
        if self.pending_mode is not None:
            self.mode, self.pending_mode = self.pending_mode, None

    def on_onsets(self, onsets: np.ndarray, end_time: float | None = None) -> int:
        """Feed the spectral flux of new frames, the last of them ending at `end_time` (on
        the clock `step` is given; None: at the next step); return the index of the first
        beat, or -1. A beat's pulse starts when its frame ended."""
        first_beat = -1
        for index, value in enumerate(onsets):
            value = float(value)
            excess = max(0.0, value - self._mean)
            self._mean = self._mean * self._mean_decay + value * (1.0 - self._mean_decay)
            self._peak = max(excess, self._peak * self._peak_decay, 1e-6)
            level = excess / self._peak
            self.energy = self.energy * self._energy_decay + level * (1.0 - self._energy_decay)
            rises = level >= self.beat_threshold and self._previous_level < self.beat_threshold
            if rises and self.beats_from_onsets:
                self._pending_beat = max(self._pending_beat, min(level, 1.0))
                self._pending_beat_time = (
                    math.inf
                    if end_time is None
                    else end_time - (len(onsets) - 1 - index) * self._frame_seconds
                )
                if first_beat < 0:
                    first_beat = index
            self._previous_level = level
        if first_beat >= 0:
            self._apply_pending_mode()
        return first_beat

    def on_beat(self, strength: float, beat_time: float, downbeat: bool = False) -> None:
        """A beat from elsewhere (a beat grid: Ableton Link, a MIDI clock, taps), `strength`
        0-1, sounding at `beat_time` (the clock `step` is given): a pulse from then, as an
        onset's beat; `downbeat`: a bar's first (a change on the bar waits for one)."""
        self._pending_beat = max(self._pending_beat, min(strength, 1.0))
        self._pending_beat_time = beat_time
        if downbeat or not self.changes_on_bar:
            self._apply_pending_mode()

    def _pulse_shape_peak(self) -> float:
        """The peak of exp(-t / decay) - exp(-t / attack)."""
        attack, decay = self.pulse_attack_seconds, self.pulse_decay_seconds
        peak_time = math.log(decay / attack) * attack * decay / (decay - attack)
        return math.exp(-peak_time / decay) - math.exp(-peak_time / attack)

    def _conditioning_target(self) -> np.ndarray:
        weight = MODE_WEIGHT.get(self.mode.kind, 0.0)
        if weight == 0.0 or not self.knows(self.mode.category):
            return self._target
        prototype = self._prototypes[self.mode.category]
        return (1.0 - weight) * self._target + weight * prototype

    def _glide(self, elapsed: float) -> None:
        """Two exponential stages in series toward the target, exact for a target held
        over `elapsed` seconds."""
        ratio = elapsed / self.glide_seconds
        decay = np.float32(math.exp(-ratio))
        carried = np.float32(ratio * math.exp(-ratio))
        target = self._conditioning_target()
        middle_offset = self._glide_middle - target
        self._feature[:] = target + (self._feature - target) * decay + middle_offset * carried
        self._glide_middle[:] = target + middle_offset * decay

    def _pulse_at(self, now: float) -> float:
        """The beat envelope at `now`: the level it had when the last beat came, decaying,
        plus that beat's pulse, a difference of a fast and a slow exponential scaled to peak
        at the beat's share of the headroom (so it never exceeds 1)."""
        if self._pulse_start is None:
            return 0.0
        since = max(0.0, now - self._pulse_start)
        decay = math.exp(-since / self.pulse_decay_seconds)
        rise = decay - math.exp(-since / self.pulse_attack_seconds)
        return self._pulse_from * decay + self._pulse_strength * rise / self._pulse_shape_peak()

    def _pulse(self, now: float) -> float:
        """The beat envelope at `now`, a pulse starting when a beat heard since the last
        step was played."""
        if self._pending_beat > 0.0:
            start = min(self._pending_beat_time, now)
            self._pending_beat_time = math.inf
            self._pulse_from = self._pulse_at(start)
            self._pulse_strength = self._pending_beat * (1.0 - self._pulse_from)
            self._pulse_start = start
            self._pending_beat = 0.0
        return self._pulse_at(now)

    def step(self, now: float) -> tuple[np.ndarray, np.ndarray]:
        """The generator's (noise, feature) for a frame shown at `now` (seconds)."""
        elapsed = 0.0 if self._last_step is None else max(0.0, now - self._last_step)
        self._last_step = now
        if now >= self._pending_deadline:
            self._apply_pending_mode()
        if elapsed:
            self._glide(elapsed)
        speed = self.quiet_speed + (self.busy_speed - self.quiet_speed) * min(self.energy, 1.0)
        self._phase += 2.0 * math.pi * speed * self._motion_scale * elapsed / self.drift_seconds
        np.multiply(self._circle_a, math.cos(self._phase), out=self._noise)
        self._noise += self._circle_b * math.sin(self._phase)
        self.envelope = self._pulse(now)
        push = np.float32(self.pulse_size * self._motion_scale * self.reactivity * self.envelope)
        if push:
            turn = 2.0 * math.pi * now / self.pulse_turn_seconds
            direction = self._pulse_a * math.cos(turn) + self._pulse_b * math.sin(turn)
            self._noise += direction * push
        return self._noise, self._feature
