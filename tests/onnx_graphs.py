"""Saving hand-built onnx.helper graphs as checked model files, for tests that need real
ONNX models without torch."""

from __future__ import annotations

from pathlib import Path

import onnx
from onnx import helper

from visualizer.model_files import ModelMetadata

OPSET = 17


def save_graph(graph: onnx.GraphProto, path: Path, metadata: ModelMetadata | None) -> Path:
    """Wrap `graph` in a model (opset 17, IR 8), attach `metadata` props, check, save."""
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    if metadata is not None:
        helper.set_model_props(model, metadata.to_props())
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path
