"""What an exported model directory holds, and the metadata every ONNX file in it carries.

Export writes it, the app and `musicscape eval` read it; neither side hard-codes a size
the metadata holds. A model directory contains:

- music_encoder.onnx  input  "window"  float32 [batch, 2, n_bins, n_frames] (the front end's window)
                      output "feature" float32 [batch, feature_dim]
                      output "category_scores" float32 [batch, n_categories]
                             (inner product with each category's image-embedding centroid)
- generator.onnx      inputs "noise" float32 [batch, noise_dim],
                             "feature" float32 [batch, feature_dim]
                      output "image" float32 [batch, 3, image_size, image_size] in [-1, 1]
- judge.onnx          input  "image" float32 [batch, 3, judge_size, judge_size] in [-1, 1]
                      outputs "logits" [batch, n_categories], "features" [batch, judge_feature_dim]

Each file's metadata_props hold `ModelMetadata.to_props()`; the app refuses a file whose
metadata is missing or whose declared shapes do not match its inputs.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from visualizer.frontend import FrontEndContract

ENCODER_FILE = "music_encoder.onnx"
GENERATOR_FILE = "generator.onnx"
JUDGE_FILE = "judge.onnx"
METADATA_PREFIX = "musicscape."


class ModelFileError(ValueError):
    """A model file is missing, unreadable, or does not match what musicscape expects."""


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

    def __post_init__(self) -> None:
        if not (0.0 <= self.scene_memory_seconds < float("inf")):
            raise ModelFileError(
                f"scene_memory_seconds must be a finite number >= 0, got "
                f"{self.scene_memory_seconds}"
            )
        prototypes = self.category_prototypes
        if prototypes and (
            len(prototypes) != len(self.categories)
            or any(len(row) != self.feature_dim for row in prototypes)
        ):
            raise ModelFileError(
                f"category_prototypes must be {len(self.categories)} rows of "
                f"{self.feature_dim} values (one per category)"
            )

    def to_props(self) -> dict[str, str]:
        """String key/value pairs for an ONNX model's metadata_props."""
        values = asdict(self)
        values["frontend"] = self.frontend.to_dict()
        values["categories"] = list(self.categories)
        return {METADATA_PREFIX + key: json.dumps(value) for key, value in values.items()}

    @classmethod
    def from_props(cls, props: dict[str, str], source: str) -> ModelMetadata:
        """Parse metadata_props; `source` names the file in every error."""
        ours = {
            key[len(METADATA_PREFIX) :]: value
            for key, value in props.items()
            if key.startswith(METADATA_PREFIX)
        }
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
            )
        except ModelFileError as error:
            raise ModelFileError(f"{source}: {error}") from error
        except (ValueError, TypeError, KeyError) as error:
            raise ModelFileError(f"{source}: unreadable musicscape metadata ({error})") from error
