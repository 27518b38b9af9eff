"""Exporting one torch module to a self-contained ONNX file, and checking it against torch.

Traps this handles (see ENVIRONMENT.md "ONNX export"): weights go inside the file
(`external_data=False`); the example batch is 2 so the batch axis stays dynamic; the
exported input shapes are asserted after export. A second LSTM model exported in one
process gets its time axis fixed, so callers export each LSTM model in its own process
(`export_in_subprocess`).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import onnx

from export.graph_speedups import speed_up_graph

BATCH_AXIS_NAME = "batch"
EXAMPLE_BATCH = 2


class ExportMismatchError(RuntimeError):
    """The exported ONNX graph does not reproduce the torch module's outputs."""


def _input_dims(model: onnx.ModelProto) -> dict[str, list[int | str]]:
    dims: dict[str, list[int | str]] = {}
    initializers = {init.name for init in model.graph.initializer}
    for value in model.graph.input:
        if value.name in initializers:
            continue
        shape = value.type.tensor_type.shape.dim
        dims[value.name] = [d.dim_param if d.dim_param else d.dim_value for d in shape]
    return dims


def _strip_source_annotations(model: onnx.ModelProto) -> None:
    """Drop the exporter's per-node and per-value annotations (stack traces with this
    machine's source paths and line numbers, FX node names): they are not part of the
    model, they leak the build machine's paths, and they make a re-export of the same
    weights differ byte for byte whenever a source line moves."""

    def strip_nodes(nodes) -> None:
        for node in nodes:
            del node.metadata_props[:]
            for attribute in node.attribute:
                if attribute.type == onnx.AttributeProto.GRAPH:
                    strip_graph(attribute.g)
                for subgraph in attribute.graphs:
                    strip_graph(subgraph)

    def strip_graph(graph: onnx.GraphProto) -> None:
        for value in (*graph.input, *graph.output, *graph.value_info):
            del value.metadata_props[:]
        strip_nodes(graph.node)
        del graph.metadata_props[:]

    strip_graph(model.graph)
    for function in model.functions:
        strip_nodes(function.node)


def export_module(
    module,
    example_inputs: tuple,
    input_names: Sequence[str],
    output_names: Sequence[str],
    path: Path,
    metadata: dict[str, str],
    dynamic_batch: bool = True,
    dynamic_spatial: bool = False,
) -> None:
    """Export `module` (eval mode) to `path` with `metadata` in metadata_props.

    `example_inputs` must have batch size 2 when `dynamic_batch` (a batch of 1 lets the
    exporter specialise the axis). `dynamic_spatial` also leaves axes 2 and 3 (height and
    width) of every input symbolic, for a fully convolutional image model. Raises ValueError
    if the written graph's inputs do not have the example's other dimensions and symbolic
    dynamic axes.
    """
    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if len(example_inputs) != len(input_names):
        raise ValueError(f"{len(example_inputs)} example inputs but {len(input_names)} names")
    if dynamic_batch and any(int(x.shape[0]) != EXAMPLE_BATCH for x in example_inputs):
        raise ValueError(f"example inputs need batch {EXAMPLE_BATCH} for a dynamic batch axis")
    module = module.eval()
    dynamic_shapes = None
    if dynamic_batch:
        batch = torch.export.Dim(BATCH_AXIS_NAME, min=1, max=4096)
        dynamic_shapes = tuple({0: batch} for _ in example_inputs)
    if dynamic_spatial:
        height = torch.export.Dim("height", min=2, max=4096)
        width = torch.export.Dim("width", min=2, max=4096)
        dynamic_shapes = tuple(
            {**(shapes or {}), 2: height, 3: width}
            for shapes in (dynamic_shapes or (None,) * len(example_inputs))
        )
    with torch.no_grad():
        program = torch.onnx.export(
            module,
            tuple(example_inputs),
            input_names=list(input_names),
            output_names=list(output_names),
            dynamic_shapes=dynamic_shapes,
            external_data=False,
            dynamo=True,
        )
    program.optimize()
    model = program.model_proto
    speed_up_graph(model)
    _strip_source_annotations(model)
    del model.metadata_props[:]
    for key, value in metadata.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = str(key), str(value)
    onnx.save_model(model, str(path), save_as_external_data=False)

    written = onnx.load(str(path))
    dims = _input_dims(written)
    if list(dims) != list(input_names):
        raise ValueError(f"{path}: exported inputs {list(dims)}, expected {list(input_names)}")
    for name, example in zip(input_names, example_inputs, strict=True):
        expected: list[int | str] = list(int(d) for d in example.shape)
        got = dims[name]
        dynamic_axes = ([0] if dynamic_batch else []) + ([2, 3] if dynamic_spatial else [])
        for axis in dynamic_axes:
            if not isinstance(got[axis], str) or got[axis] == "":
                raise ValueError(f"{path}: input {name!r} has a fixed axis {axis}: {got}")
            expected[axis] = got[axis]
        if got != expected:
            raise ValueError(f"{path}: input {name!r} exported as {got}, expected {expected}")
    outputs = [value.name for value in written.graph.output]
    if outputs != list(output_names):
        raise ValueError(f"{path}: exported outputs {outputs}, expected {list(output_names)}")


def check_against_torch(module, path: Path, inputs: tuple, atol: float = 1e-4) -> float:
    """Run `inputs` through torch and ONNX Runtime; return the max abs difference.

    Raises ExportMismatchError naming the output, the max abs difference and the tolerance
    when any output differs by more than `atol`.
    """
    import onnxruntime as ort
    import torch

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    names = [value.name for value in session.get_inputs()]
    feeds = {
        name: np.ascontiguousarray(x.detach().cpu().numpy())
        for name, x in zip(names, inputs, strict=True)
    }
    got = session.run(None, feeds)
    with torch.no_grad():
        expected = module.eval()(*inputs)
    if isinstance(expected, torch.Tensor):
        expected = (expected,)
    worst = 0.0
    for output, theirs, ours in zip(session.get_outputs(), got, expected, strict=True):
        ours_np = ours.detach().cpu().numpy()
        if theirs.shape != ours_np.shape:
            raise ExportMismatchError(
                f"{path}: output {output.name!r} has shape {theirs.shape} in ONNX Runtime, "
                f"{ours_np.shape} in torch"
            )
        diff = float(np.max(np.abs(theirs - ours_np))) if ours_np.size else 0.0
        if not np.isfinite(diff) or diff > atol:
            raise ExportMismatchError(
                f"{path}: output {output.name!r} differs from torch by max abs {diff:.3g} "
                f"(tolerance {atol:g}, torch range [{ours_np.min():.3g}, {ours_np.max():.3g}])"
            )
        worst = max(worst, diff)
    return worst


def export_in_subprocess(function: Callable, *args) -> object:
    """Run `function(*args)` in a fresh spawned process and return its result.

    Exporting an LSTM model fixes the time axis of any later LSTM export in the same
    process; one process per export avoids that. `function` must be importable (module
    level) and its arguments and result picklable. Errors are re-raised here.
    """
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        return pool.apply(function, args)
