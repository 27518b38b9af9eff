"""The judge's ONNX export (judge.onnx, used only by `musicscape eval`)."""

from __future__ import annotations

from pathlib import Path

import torch

from export.onnx_export import EXAMPLE_BATCH, check_against_torch, export_module
from training.judge.checkpoint import load_judge
from training.judge.models import judge_input_size
from visualizer.model_files import ModelFileError, ModelMetadata


def export_judge(checkpoint: Path, out_path: Path, metadata_props: dict[str, str]) -> float:
    """Export a judge checkpoint to ONNX (input "image", outputs "logits", "features").

    `metadata_props` are the run's `ModelMetadata.to_props()`; the judge's own input size,
    feature size and held-out photo list replace image_size, feature_dim and training_data.
    Returns the max abs difference between ONNX Runtime and torch on a check batch.
    """
    model, info = load_judge(checkpoint)
    shared = ModelMetadata.from_props(metadata_props, str(out_path))
    if set(shared.categories) != set(info["categories"]):
        raise ModelFileError(
            f"{checkpoint}: judge categories {info['categories']} do not match the models' "
            f"{list(shared.categories)}"
        )
    size = judge_input_size(model)
    eval_figures = {
        "validation_accuracy": info["validation_accuracy"],
        "validation_per_category": info["validation_per_category"],
    }
    if "member_accuracies" in info:
        eval_figures["member_accuracies"] = info["member_accuracies"]
    metadata = ModelMetadata(
        frontend=shared.frontend,
        categories=tuple(info["categories"]),
        feature_dim=model.feature_dim,
        noise_dim=shared.noise_dim,
        image_size=size,
        model_version=shared.model_version,
        training_data={
            "scenes_root": info["scenes_root"],
            **info["split"],
            "validation_photos": info["validation_photos"],
            "train_photo_count": info["train_photo_count"],
        },
        eval_figures=eval_figures,
    )
    example = torch.rand(EXAMPLE_BATCH, 3, size, size) * 2 - 1
    export_module(
        model, (example,), ["image"], ["logits", "features"], out_path, metadata.to_props()
    )
    check = torch.rand(5, 3, size, size) * 2 - 1
    return check_against_torch(model, out_path, (check,))
