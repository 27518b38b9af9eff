"""What an exported model directory holds, and the metadata every ONNX file in it carries.

Export writes it, the app and `musicscape eval` read it; neither side hard-codes a size
the metadata holds. A model directory contains:

- music_encoder.onnx  input  "window"  float32 [batch, 2, n_bins, n_frames] (the front end's window)
                      output "feature" float32 [batch, feature_dim]
                      output "category_scores" float32 [batch, n_categories]
                             (inner product with each category's image-embedding centroid;
                             in a file with a category probe, `training_data.category_probe`,
                             the feature has already moved by the probe's blend, and the
                             scores are still its inner products)
- generator.onnx      inputs "noise" float32 [batch, noise_dim],
                             "feature" float32 [batch, feature_dim],
                             and, for a generator conditioned on picture attributes,
                             "attributes" float32 [batch, 4] (z-units of the metadata's
                             `picture_attributes`; visualizer/picture_attributes.py)
                      output "image" float32 [batch, 3, image_size, image_size] in [-1, 1]
- judge.onnx          input  "image" float32 [batch, 3, judge_size, judge_size] in [-1, 1]
                      outputs "logits" [batch, n_categories], "features" [batch, judge_feature_dim]

Each file's metadata_props hold `ModelMetadata.to_props()`; the app refuses a file whose
metadata is missing, holds a value outside its range (each number has one below, so a
damaged or hostile file cannot ask for an absurd window or scene memory), or whose declared
shapes do not match its inputs. Every refusal names the file and the key.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

from visualizer.frontend import FrontEndContract
from visualizer.picture_attributes import AttributeStats

ENCODER_FILE = "music_encoder.onnx"
GENERATOR_FILE = "generator.onnx"
JUDGE_FILE = "judge.onnx"
METADATA_PREFIX = "musicscape."
# The entry of an encoder's training_data that describes the category probe inside it.
PROBE_KEY = "category_probe"


class ModelFileError(ValueError):
    """A model file is missing, unreadable, or does not match what musicscape expects."""


MAX_SCENE_MEMORY_SECONDS = 3600.0
MAX_CATEGORIES = 256
MAX_WINDOW_VALUES = 2**26  # one model input window: 256 MB of float32 (the bundled: 1.4 M)

# key: (lowest, highest, whole numbers only) for every number the metadata holds.
NUMBER_RANGES: dict[str, tuple[float, float, bool]] = {
    "feature_dim": (1, 65_536, True),
    "noise_dim": (1, 65_536, True),
    "image_size": (1, 4096, True),
    "scene_memory_seconds": (0.0, MAX_SCENE_MEMORY_SECONDS, False),
    "music_level_db": (-100.0, 0.0, False),
}
OPTIONAL_NUMBERS = ("music_level_db",)  # null: the file does not say
FRONTEND_RANGES: dict[str, tuple[float, float, bool]] = {
    "sample_rate": (1000, 384_000, True),
    "n_fft": (16, 65_536, True),
    "hop": (1, 65_536, True),
    "n_bins": (1, 32_769, True),
    "window_seconds": (0.01, 600.0, False),
    "floor_db": (-400.0, -0.01, False),
    "phase_fade_db": (0.01, 400.0, False),
    "version": (1, 1_000, True),
}
NOISE_TRUNCATION_RANGE = (0.001, 1.0, False)
# The soft category pull's softmax temperature (training.models.gan.CATEGORY_PULL_TEMPERATURE);
# files exported before it was recorded used the default.
DEFAULT_PULL_TEMPERATURE = 0.02
PULL_TEMPERATURE_RANGE = (1e-6, 100.0, False)


def check_number(key: str, value: object, allowed: tuple[float, float, bool]) -> None:
    """Refuse `value` unless it is a finite (whole, if asked) number inside `allowed`;
    the message names `key`."""
    low, high, whole = allowed
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if not (
        number
        and math.isfinite(value)
        and low <= value <= high
        and (not whole or float(value).is_integer())
    ):
        kind = "a whole number" if whole else "a number"
        raise ModelFileError(
            f"{METADATA_PREFIX}{key} must be {kind} from {low:g} to {high:g}, "
            f"got {json.dumps(value)}"
        )


def _check_ranges(values: dict[str, Any]) -> None:
    """Every value of parsed metadata inside its range, before anything is built from it."""
    for key, allowed in NUMBER_RANGES.items():
        if key in values and not (key in OPTIONAL_NUMBERS and values[key] is None):
            check_number(key, values[key], allowed)
    frontend = values["frontend"]
    if not isinstance(frontend, dict):
        raise ModelFileError(f"{METADATA_PREFIX}frontend must be a JSON object")
    for key, allowed in FRONTEND_RANGES.items():
        if key in frontend:
            check_number(f"frontend.{key}", frontend[key], allowed)
    window = frontend.get("window", "hann")
    if not isinstance(window, str) or not _known_window(window):
        raise ModelFileError(
            f"{METADATA_PREFIX}frontend.window must name a window function such as "
            f'"hann", got {json.dumps(window)}'
        )
    categories = values["categories"]
    if not (
        isinstance(categories, list)
        and 2 <= len(categories) <= MAX_CATEGORIES
        and all(isinstance(name, str) and name.strip() for name in categories)
        and len(set(categories)) == len(categories)
    ):
        raise ModelFileError(
            f"{METADATA_PREFIX}categories must be 2 to {MAX_CATEGORIES} different non-empty "
            f"names, got {json.dumps(categories)[:200]}"
        )
    for key in ("training_data", "eval_figures"):
        if not isinstance(values.get(key, {}), dict):
            raise ModelFileError(f"{METADATA_PREFIX}{key} must be a JSON object")
    attributes = values.get("picture_attributes", {})
    if not isinstance(attributes, dict):
        raise ModelFileError(f"{METADATA_PREFIX}picture_attributes must be a JSON object")
    if attributes:
        try:
            stats = AttributeStats.from_dict(attributes)
        except ValueError as error:
            raise ModelFileError(f"{METADATA_PREFIX}{error}") from error
        if len(stats.category_mean) != len(categories):
            raise ModelFileError(
                f"{METADATA_PREFIX}picture_attributes.category_mean must have one row per "
                f"category ({len(categories)}), got {len(stats.category_mean)}"
            )
    prototypes = values.get("category_prototypes", [])
    if not isinstance(prototypes, list) or not all(
        isinstance(row, list)
        and all(
            isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x) for x in row
        )
        for row in prototypes
    ):
        raise ModelFileError(f"{METADATA_PREFIX}category_prototypes must be rows of finite numbers")


def unprefixed(props: dict[str, str], prefix: str) -> dict[str, str]:
    """The metadata_props whose key starts with `prefix`, keyed without it."""
    return {key[len(prefix) :]: value for key, value in props.items() if key.startswith(prefix)}


def _known_window(name: str) -> bool:
    import scipy.signal

    try:
        scipy.signal.get_window(name, 16)
    except (ValueError, TypeError):
        return False
    return True


@dataclass(frozen=True)
class ModelMetadata:
    frontend: FrontEndContract
    categories: tuple[str, ...]
    feature_dim: int
    noise_dim: int
    image_size: int
    model_version: str
    training_data: dict[str, Any] = field(default_factory=dict)
    eval_figures: dict[str, Any] = field(default_factory=dict)
    # One feature per category that the generator draws it from (the image-embedding centroid
    # the category's music is pulled towards): lets the app hold a category from the start.
    # Empty in files exported before it existed.
    category_prototypes: tuple[tuple[float, ...], ...] = ()
    # The time constant of the app's scene memory (visualizer.scene_memory); 0 = off, as in
    # files exported before it existed.
    scene_memory_seconds: float = 0.0
    # The training photos' picture attributes (AttributeStats.to_dict()) of a generator
    # conditioned on them (its "attributes" input is in z-units of these); empty otherwise,
    # as in files exported before it existed.
    picture_attributes: dict[str, Any] = field(default_factory=dict)
    # The typical level of the music the encoder was trained on (visualizer.frontend.level):
    # a live input is brought to it. None in files exported before it existed.
    music_level_db: float | None = None

    def __post_init__(self) -> None:
        check_number(
            "scene_memory_seconds",
            self.scene_memory_seconds,
            NUMBER_RANGES["scene_memory_seconds"],
        )
        if self.music_level_db is not None:
            check_number("music_level_db", self.music_level_db, NUMBER_RANGES["music_level_db"])
        channels, n_bins, n_frames = self.frontend.input_shape
        if channels * n_bins * n_frames > MAX_WINDOW_VALUES:
            raise ModelFileError(
                f"{METADATA_PREFIX}frontend: a window of {channels} x {n_bins} x {n_frames} "
                f"values is more than musicscape handles ({MAX_WINDOW_VALUES})"
            )
        self.noise_truncation()
        self.category_pull_temperature()
        prototypes = self.category_prototypes
        if prototypes and (
            len(prototypes) != len(self.categories)
            or any(len(row) != self.feature_dim for row in prototypes)
        ):
            raise ModelFileError(
                f"category_prototypes must be {len(self.categories)} rows of "
                f"{self.feature_dim} values (one per category)"
            )

    def noise_truncation(self) -> float:
        """The factor generator.onnx scales its noise by (`training_data.noise_truncation`,
        written by `musicscape export --truncation`); 1 when the file does not say."""
        value = self.training_data.get("noise_truncation", 1.0)
        check_number("training_data.noise_truncation", value, NOISE_TRUNCATION_RANGE)
        return float(value)

    def category_pull_temperature(self) -> float:
        """The temperature of the soft category pull generator.onnx was exported with
        (`training_data.category_pull_temperature`); the default when the file does not say."""
        value = self.training_data.get("category_pull_temperature", DEFAULT_PULL_TEMPERATURE)
        check_number("training_data.category_pull_temperature", value, PULL_TEMPERATURE_RANGE)
        return float(value)

    def attribute_stats(self) -> AttributeStats | None:
        """The picture attributes' stats, or None for a generator without them."""
        if not self.picture_attributes:
            return None
        return AttributeStats.from_dict(self.picture_attributes)

    def to_props(self) -> dict[str, str]:
        """String key/value pairs for an ONNX model's metadata_props."""
        values = asdict(self)
        values["frontend"] = self.frontend.to_dict()
        values["categories"] = list(self.categories)
        return {METADATA_PREFIX + key: json.dumps(value) for key, value in values.items()}

    @classmethod
    def from_props(cls, props: dict[str, str], source: str) -> ModelMetadata:
        """Parse metadata_props; `source` names the file in every error."""
        ours = unprefixed(props, METADATA_PREFIX)
        required = (
            "frontend",
            "categories",
            "feature_dim",
            "noise_dim",
            "image_size",
            "model_version",
        )
        missing = [key for key in required if key not in ours]
        if missing:
            raise ModelFileError(
                f"{source}: not a musicscape model (metadata lacks "
                f"{', '.join(METADATA_PREFIX + key for key in missing)}); re-export it with "
                "`musicscape export`"
            )
        try:
            values = {key: json.loads(value) for key, value in ours.items()}
            _check_ranges(values)
            return cls(
                frontend=FrontEndContract.from_dict(values["frontend"]),
                categories=tuple(str(name) for name in values["categories"]),
                feature_dim=int(values["feature_dim"]),
                noise_dim=int(values["noise_dim"]),
                image_size=int(values["image_size"]),
                model_version=str(values["model_version"]),
                training_data=dict(values.get("training_data", {})),
                eval_figures=dict(values.get("eval_figures", {})),
                category_prototypes=tuple(
                    tuple(float(x) for x in row) for row in values.get("category_prototypes", [])
                ),
                scene_memory_seconds=float(values.get("scene_memory_seconds", 0.0)),
                picture_attributes=dict(values.get("picture_attributes", {})),
                music_level_db=(
                    None
                    if values.get("music_level_db") is None
                    else float(values["music_level_db"])
                ),
            )
        except ModelFileError as error:
            raise ModelFileError(f"{source}: {error}") from error
        except (ValueError, TypeError, KeyError) as error:
            raise ModelFileError(f"{source}: unreadable musicscape metadata ({error})") from error
