"""Turns encoder results and the onset stream into the generator's inputs at display rate.

- Encoder results pass through the scene memory (`memory_seconds`, the model's
  `scene_memory_seconds` unless the user sets another): the scene follows the music's
  character over the last phrase or so instead of flipping with every window.
- The conditioning feature glides toward the remembered feature (exponential, time
  constant `glide_seconds`), so a scene change is a cross-fade through the generator,
  never a jump.
- The noise drifts slowly around a circle (the picture keeps moving in quiet passages),
  and a beat envelope pushes it along a direction chosen anew at each beat, scaled by
  `reactivity`. A beat is a rise of the spectral flux above its running mean, measured
  against the recent peak of such rises, so steady sound never reads as beats and loud
  and quiet music move the picture alike.
- Scene mode: "auto" lets the music choose; holding or biasing a category blends the
  feature toward that category's prototype: the model file's prototype at first (when
  it ships one), then the running mean of the features the encoder produced while that
  category scored highest, so a held scene takes on the colour of the music playing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from visualizer.scene_memory import SceneMemory

AUTO = "auto"
HOLD = "hold"
BIAS = "bias"
MODE_WEIGHT = {HOLD: 1.0, BIAS: 0.5}


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
        glide_seconds: float = 0.8,
        drift_seconds: float = 20.0,
        beat_decay_seconds: float = 0.25,
        peak_decay_seconds: float = 6.0,
        mean_seconds: float = 1.0,
        beat_threshold: float = 0.55,
        prototypes: np.ndarray | None = None,
        memory_seconds: float = 0.0,
    ):
        self.categories = categories
        self._rng = np.random.default_rng(seed)
        self.glide_seconds = glide_seconds
        self.memory = SceneMemory(memory_seconds)
        self._last_encoding: float | None = None
        self.drift_seconds = drift_seconds
        self.reactivity = 1.0
        self.mode = SceneMode()
        self.beat_threshold = beat_threshold
        self._beat_decay = math.exp(-frame_seconds / beat_decay_seconds)
        self._peak_decay = math.exp(-frame_seconds / peak_decay_seconds)
        self._mean_decay = math.exp(-frame_seconds / mean_seconds)
        self._mean = 0.0
        self._feature = np.zeros(feature_dim, dtype=np.float32)
        self._target = np.zeros(feature_dim, dtype=np.float32)
        self._prototypes = np.zeros((len(categories), feature_dim), dtype=np.float32)
        self._prototype_counts = np.zeros(len(categories), dtype=np.int64)
        self._shipped = prototypes is not None and len(prototypes) > 0
        if self._shipped:
            self._prototypes[:] = prototypes
        scale = math.sqrt(noise_dim)
        self._circle_a = self._unit(noise_dim) * scale
        self._circle_b = self._unit(noise_dim) * scale
        self._kick = self._unit(noise_dim) * scale
        self._noise = np.zeros(noise_dim, dtype=np.float32)
        self._peak = 1e-6
        self._previous_level = 0.0
        self.envelope = 0.0
        self.probabilities = np.full(len(categories), 1.0 / len(categories), dtype=np.float32)
        self._has_feature = False
        self._last_step: float | None = None

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
        if not self._has_feature:
            self._feature[:] = feature
            self._has_feature = True

    def on_onsets(self, onsets: np.ndarray) -> int:
        """Feed the spectral flux of new frames; return the index of the first beat, or -1."""
        first_beat = -1
        for index, value in enumerate(onsets):
            value = float(value)
            excess = max(0.0, value - self._mean)
            self._mean = self._mean * self._mean_decay + value * (1.0 - self._mean_decay)
            self._peak = max(excess, self._peak * self._peak_decay, 1e-6)
            level = excess / self._peak
            self.envelope *= self._beat_decay
            if level >= self.beat_threshold and self._previous_level < self.beat_threshold:
                self.envelope = max(self.envelope, level)
                self._kick = self._unit(len(self._kick)) * math.sqrt(len(self._kick))
                if first_beat < 0:
                    first_beat = index
            self._previous_level = level
        return first_beat

    def _conditioning_target(self) -> np.ndarray:
        weight = MODE_WEIGHT.get(self.mode.kind, 0.0)
        if weight == 0.0 or not self.knows(self.mode.category):
            return self._target
        prototype = self._prototypes[self.mode.category]
        return (1.0 - weight) * self._target + weight * prototype

    def step(self, now: float) -> tuple[np.ndarray, np.ndarray]:
        """The generator's (noise, feature) for a frame shown at `now` (seconds)."""
        elapsed = 0.0 if self._last_step is None else max(0.0, now - self._last_step)
        self._last_step = now
        blend = 1.0 - math.exp(-elapsed / self.glide_seconds) if elapsed else 0.0
        self._feature += np.float32(blend) * (self._conditioning_target() - self._feature)
        angle = 2.0 * math.pi * now / self.drift_seconds
        np.multiply(self._circle_a, math.cos(angle), out=self._noise)
        self._noise += self._circle_b * math.sin(angle)
        self._noise += self._kick * np.float32(self.reactivity * self.envelope)
        return self._noise, self._feature
