"""Scene memory: the music feature the scene follows, averaged over the last few seconds.

A 16-s window already hears a phrase, but consecutive windows of one track can still land
on different categories, and a scene that flips every few seconds reads as noise. The
memory is an exponential moving average of the encoder's feature (and of its category
scores, which are linear in it) with time constant `seconds`, so the scene follows the
music's character over about that long. It starts as the running mean of the results so
far (the first one does not outweigh those after it), until the moving average gives a new
result more weight than that.

The app feeds it every encoder result with the time since the previous one; `musicscape
eval` feeds it each track's windows with the window hop, so eval measures the scenes the
app shows. The time constant travels in the model files' metadata (`scene_memory_seconds`,
0 = off: every result is shown as it comes).
"""

from __future__ import annotations

import math

import numpy as np

DEFAULT_SCENE_MEMORY_SECONDS = 16.0  # one window: the scene follows the last phrase or so
MAX_APP_SECONDS = 120  # the longest scene memory the app offers (its control and --scene-memory)


class SceneMemory:
    def __init__(self, seconds: float):
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"scene memory must be a finite number of seconds >= 0, got {seconds}")
        self.seconds = float(seconds)
        self.feature: np.ndarray | None = None
        self.scores: np.ndarray | None = None
        self._count = 0

    def reset(self) -> None:
        """Forget everything (a new source)."""
        self.feature = self.scores = None
        self._count = 0

    def update(
        self, feature: np.ndarray, scores: np.ndarray, elapsed_seconds: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Take one encoder result, `elapsed_seconds` after the previous one; return the
        remembered (feature, scores), owned by the memory (copy to keep them)."""
        self._count += 1
        if self.feature is None or self.seconds == 0.0:
            self.feature = np.array(feature, dtype=np.float32)
            self.scores = np.array(scores, dtype=np.float32)
            return self.feature, self.scores
        moving = 1.0 - math.exp(-max(float(elapsed_seconds), 0.0) / self.seconds)
        rate = np.float32(max(moving, 1.0 / self._count))
        self.feature += rate * (np.asarray(feature, dtype=np.float32) - self.feature)
        self.scores += rate * (np.asarray(scores, dtype=np.float32) - self.scores)
        return self.feature, self.scores


def remembered_sequence(
    features: np.ndarray, scores: np.ndarray, seconds: float, hop_seconds: float
) -> tuple[np.ndarray, np.ndarray]:
    """What the memory holds after each of a track's consecutive windows ([n, ...] each),
    the windows `hop_seconds` apart."""
    memory = SceneMemory(seconds)
    remembered_features = np.empty_like(features, dtype=np.float32)
    remembered_scores = np.empty_like(scores, dtype=np.float32)
    for index in range(len(features)):
        feature, score = memory.update(features[index], scores[index], hop_seconds)
        remembered_features[index] = feature
        remembered_scores[index] = score
    return remembered_features, remembered_scores
