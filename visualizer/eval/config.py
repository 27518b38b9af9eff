"""What an evaluation run is given: its settings (`EvalConfig`), its constants, and the
error it raises for inputs it cannot measure."""

from __future__ import annotations

from dataclasses import dataclass

from visualizer.feel import DEFAULT_FEEL_STRENGTH, MAX_FEEL_STRENGTH

SUBSETS = ("all", "train", "validation")
STREAM_BLOCK_SAMPLES = 1 << 18  # samples decoded and analysed at a time (12 s)


class EvaluationError(ValueError):
    """The evaluation cannot run on these inputs; the message says why."""


SAMPLE_COLUMNS = 8
MAX_SAMPLE_SIZE = 2048  # pixels per sample-grid picture
CONTROL_STEPS = (-1.5, -0.75, 0.0, 0.75, 1.5)  # z-units each attribute is asked for
CHECKERBOARD_DRAWS = 32  # per category, from its prototype
CHECKERBOARD_PHOTOS = 512  # real photos the reference ratio is measured on, at most


@dataclass(frozen=True)
class EvalConfig:
    draws_per_window: int = 4
    centroid_draws: int = 256  # per category: one judge mistake moves the figure by 0.1%
    window_hop_fraction: float = 0.5  # hop between windows, as a share of the window (8 s of 16)
    seed: int = 0
    # Windows per encoder run, images per generator and judge run: each costs ~20 MB with the
    # shipped models, so eval stays under 512 MB RSS.
    batch: int = 4
    pairwise_sample: int = 1000  # items per category for mean pairwise distances
    threads: int = 0  # ONNX Runtime intra-op threads; 0 = its default
    scene_memory_seconds: float | None = None  # None: the model's; 0: each window alone
    feel_strength: float = DEFAULT_FEEL_STRENGTH  # the grade feel figures are measured at
    feel_settings: int = 16  # random (arousal, valence) settings for asked-vs-drawn
    feel_draws: int = 256  # generated images per setting
    control_draws: int = 256  # generated images per attribute-control setting
    # Side of each sample-grid picture: None = the generator's own; larger, the picture as
    # the app and render show it at that size (the model directory's upscaler, else bicubic).
    sample_size: int | None = None

    def __post_init__(self) -> None:
        if self.draws_per_window < 1 or self.centroid_draws < 1 or self.batch < 1:
            raise ValueError("draws_per_window, centroid_draws and batch must be at least 1")
        if not 0 < self.window_hop_fraction <= 1:
            raise ValueError(f"window_hop_fraction must be in (0, 1]: {self.window_hop_fraction}")
        if self.threads < 0:
            raise ValueError(f"threads must be >= 0 (0: ONNX Runtime's choice), got {self.threads}")
        if self.pairwise_sample < 2:
            raise ValueError(f"pairwise_sample must be at least 2: {self.pairwise_sample}")
        if not 0.0 <= self.feel_strength <= MAX_FEEL_STRENGTH:
            raise ValueError(f"feel_strength must be in [0, {MAX_FEEL_STRENGTH}]")
        if self.feel_settings < 3 or self.feel_draws < 1:
            raise ValueError("feel_settings must be at least 3 and feel_draws at least 1")
        if self.control_draws < 2:
            raise ValueError(f"control_draws must be at least 2, got {self.control_draws}")
        if self.sample_size is not None and not 1 <= self.sample_size <= MAX_SAMPLE_SIZE:
            raise ValueError(
                f"sample_size must be 1-{MAX_SAMPLE_SIZE} pixels, got {self.sample_size}"
            )
        memory = self.scene_memory_seconds
        if memory is not None and not 0.0 <= memory < float("inf"):
            raise ValueError(f"scene_memory_seconds must be a finite number >= 0: {memory}")
