"""Loads an exported model directory into ONNX Runtime sessions and checks it against its metadata.

The app never trusts a file: each must carry `ModelMetadata` (visualizer/model_files.py) in
its metadata_props, its inputs and outputs must have the shapes that metadata declares, and
the encoder and generator must agree with each other. Every refusal is a `ModelFileError`
whose message names the file and says what is wrong, in words a user can act on.

Before a runtime is handed out, its outputs are tried: the encoder on a silent window and on
a noise window, the generator on the silent window's feature. Output that is not finite, the
same number everywhere, or an encoder that answers two different windows alike is refused
(damaged weights paint garbage, black or nothing), so a bad model never replaces a good one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from visualizer.bundled import assets_dir
from visualizer.feel import ColourTarget, grade, requested_attributes
from visualizer.model_files import ENCODER_FILE, GENERATOR_FILE, ModelFileError
from visualizer.model_sessions import (
    CPU_PROVIDER,
    check_encoder,
    check_generator,
    first_line,
    has_attributes,
    open_model,
)
from visualizer.picture_attributes import feature_request

# Best first; only those this onnxruntime build offers are requested.
PREFERRED_PROVIDERS = (
    "CUDAExecutionProvider",
    "CoreMLExecutionProvider",
    "DmlExecutionProvider",
    CPU_PROVIDER,
)


def default_model_dir() -> Path:
    """The bundled models."""
    return assets_dir() / "models"


@dataclass(frozen=True)
class ProviderChoice:
    requested: tuple[str, ...]
    running: tuple[str, ...]
    warning: str | None  # plain words when a better provider was asked for and did not run


class ModelRuntime:
    """The music encoder and the generator of one model directory, ready to run.

    `intra_op_threads` bounds each session's threads (the app uses 1 so that it stays
    within one core of a 2-core machine).
    """

    def __init__(
        self,
        model_dir: str | Path,
        intra_op_threads: int = 1,
        providers: Sequence[str] | None = None,
    ):
        import onnxruntime as ort

        self.model_dir = Path(model_dir)
        if not self.model_dir.is_dir():
            raise ModelFileError(
                f"{self.model_dir}: model directory not found (expected {ENCODER_FILE} and "
                f"{GENERATOR_FILE} in it; choose one with --models DIR)"
            )
        wanted = tuple(providers) if providers is not None else PREFERRED_PROVIDERS
        available = set(ort.get_available_providers())
        requested = tuple(name for name in wanted if name in available) or (CPU_PROVIDER,)
        self.encoder = open_model(self.model_dir / ENCODER_FILE, requested, intra_op_threads)
        self.generator = open_model(self.model_dir / GENERATOR_FILE, requested, intra_op_threads)
        self.metadata = self.encoder.metadata
        check_encoder(self.encoder)
        check_generator(self.generator, self.encoder)
        # The picture's side is the generator's own: a generator trained at another size on
        # the same encoder (a 128-px one grown from a 64-px one) carries it in its metadata.
        self.image_size = self.generator.metadata.image_size
        self.providers = ProviderChoice(
            requested=requested,
            running=self.encoder.providers,
            warning=self.encoder.warning or self.generator.warning,
        )
        contract = self.metadata.frontend
        self._noise = np.zeros((1, self.metadata.noise_dim), dtype=np.float32)
        self._feature = np.zeros((1, self.metadata.feature_dim), dtype=np.float32)
        self._window = np.zeros((1, *contract.input_shape), dtype=np.float32)
        # A generator conditioned on picture attributes is asked for them (`paint`); one
        # without them has its picture graded instead.
        self.attribute_stats = (
            self.generator.metadata.attribute_stats() if has_attributes(self.generator) else None
        )
        self._attributes = np.zeros((1, 4), dtype=np.float32)
        self._prototypes = np.asarray(self.metadata.category_prototypes, dtype=np.float64)
        self._pull_temperature = self.generator.metadata.category_pull_temperature()
        if self.attribute_stats is not None and not len(self._prototypes):
            raise ModelFileError(
                f"{GENERATOR_FILE}: it takes picture attributes but {ENCODER_FILE} has no "
                "category prototypes to choose them by; export the two together again"
            )
        self._check_outputs()

    @property
    def active_provider(self) -> str:
        """The provider that actually runs the models (what get_providers() reports first)."""
        return self.providers.running[0]

    def _check_outputs(self) -> None:
        """Run both models once on known input; refuse output no picture can come from."""
        shape = self.metadata.frontend.input_shape
        silence = np.zeros(shape, dtype=np.float32)
        silence[0] = -1.0  # what the front end makes of silence: power at the floor, phase 0
        noise_window = np.random.default_rng(0).uniform(-1.0, 1.0, shape).astype(np.float32)
        try:
            silent_feature, silent_scores = (array.copy() for array in self.encode(silence))
            feature, scores = self.encode(noise_window)
        except Exception as error:  # noqa: BLE001 - ORT raises many types
            raise ModelFileError(f"{ENCODER_FILE}: fails to run ({first_line(error)})") from error
        for name, values in (
            ("feature", silent_feature),
            ("feature", feature),
            ("category_scores", silent_scores),
            ("category_scores", scores),
        ):
            _require_finite(ENCODER_FILE, name, values)
        _require_varied(ENCODER_FILE, "feature", feature)
        if np.array_equal(feature, silent_feature):
            raise ModelFileError(
                f"{ENCODER_FILE}: gives the same feature for silence and for noise (it does "
                "not listen to its input); the file is damaged, export it again"
            )
        noise = np.random.default_rng(1).standard_normal(self.metadata.noise_dim)
        try:
            image = self.generate(noise.astype(np.float32), silent_feature)
        except Exception as error:  # noqa: BLE001
            raise ModelFileError(f"{GENERATOR_FILE}: fails to run ({first_line(error)})") from error
        _require_finite(GENERATOR_FILE, "image", image)
        _require_varied(GENERATOR_FILE, "image", image)

    def encode(self, window: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One window [2, n_bins, n_frames] -> (feature [feature_dim], category_scores [C])."""
        self._window[0] = window
        feature, scores = self.encoder.run(["feature", "category_scores"], {"window": self._window})
        return feature[0], scores[0]

    def generate(self, noise: np.ndarray, feature: np.ndarray) -> np.ndarray:
        """noise [noise_dim], feature [feature_dim] -> image [3, S, S] in [-1, 1], with the
        light and colour typical of the category the feature scores as."""
        return self.paint(noise, feature, None, 0.0)

    def paint(
        self,
        noise: np.ndarray,
        feature: np.ndarray,
        target: ColourTarget | None,
        strength: float,
    ) -> np.ndarray:
        """The picture for noise [noise_dim] and feature [feature_dim], its light and colour
        moved `strength` of the way toward `target` (visualizer/feel.py): asked of a
        generator conditioned on picture attributes (from the typical light of the
        categories the feature scores as), graded after drawing for one without them.
        -> image [3, S, S] in [-1, 1]."""
        self._noise[0] = noise
        self._feature[0] = feature
        inputs = {"noise": self._noise, "feature": self._feature}
        stats = self.attribute_stats
        if stats is not None:
            base = feature_request(feature, self._prototypes, self._pull_temperature, stats)
            if target is not None and strength > 0.0:
                base = requested_attributes(base, target, strength, stats.mean, stats.spread)
            self._attributes[0] = base
            inputs["attributes"] = self._attributes
        (image,) = self.generator.run(["image"], inputs)
        if stats is None and target is not None:
            return grade(image[0], target, strength)
        return image[0]


def _require_finite(name: str, output: str, values: np.ndarray) -> None:
    bad = int(values.size - np.count_nonzero(np.isfinite(values)))
    if bad:
        raise ModelFileError(
            f"{name}: its {output} output holds NaN or infinity ({bad} of {values.size} "
            "values); the weights are damaged, export it again"
        )


def _require_varied(name: str, output: str, values: np.ndarray) -> None:
    if values.size > 1 and np.ptp(values) == 0.0:
        raise ModelFileError(
            f"{name}: its {output} output is {float(values.flat[0]):g} everywhere; the "
            "weights are damaged, export it again"
        )
