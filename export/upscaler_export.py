"""Exporting the learned upscaler (training/upscaler.py) to upscaler.onnx, checked against torch.

The graph takes any image size (height and width are symbolic, like the batch), so one file
serves a 64-px and a 128-px generator; its metadata (`UpscalerMetadata`) gives the scale, the
generator size it was trained for, the photos it was trained on and its held-out figures.
"""

from __future__ import annotations

from pathlib import Path


def export_upscaler(checkpoint: Path, out_path: Path, model_version: str) -> float:
    """Write `checkpoint` (an upscaler.pt) as ONNX to `out_path`; return the max abs
    difference between ONNX Runtime and torch at the trained input size and at twice it
    (ExportMismatchError above 1e-4)."""
    import torch

    from export.onnx_export import EXAMPLE_BATCH, check_against_torch, export_module
    from training.upscaler import UpscalerConfig, load_upscaler
    from visualizer.upscale import UpscalerMetadata

    model, info = load_upscaler(checkpoint)
    config = UpscalerConfig.from_dict(info["config"])
    metadata = UpscalerMetadata(
        scale=config.scale,
        input_size=config.input_size,
        model_version=model_version,
        training_data={
            "scenes_root": info["scenes_root"],
            "categories": info["categories"],
            "train_photo_count": info["train_photo_count"],
            "validation_photos": info["validation_photos"],
            "config": info["config"],
        },
        eval_figures=info["figures"],
    )
    size = config.input_size
    generator = torch.Generator().manual_seed(0)
    example = torch.rand(EXAMPLE_BATCH, 3, size, size, generator=generator) * 2 - 1
    export_module(
        model,
        (example,),
        ["image"],
        ["upscaled"],
        out_path,
        metadata.to_props(),
        dynamic_spatial=True,
    )
    worst = 0.0
    for side in (size, 2 * size):
        check = torch.rand(3, 3, side, side, generator=generator) * 2 - 1
        worst = max(worst, check_against_torch(model, out_path, (check,)))
    return worst
