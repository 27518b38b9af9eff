"""Turns the hard category pull inside an exported generator.onnx into a soft one.

Generators exported before the pull was made soft carry
`feature + SHARE * (prototype[argmax(scores)] - feature)` in the graph (scores = feature @
prototypes.T). Where music crosses from one category to the next, the argmax flips and the
picture cuts in one frame, however smoothly the app glides the feature. This rewrite
replaces the argmax and gather with a score-weighted mean of the prototypes, as
CategoryPulledGenerator now exports it,

    target = softmax(scores / temperature) @ prototypes,

so the pulled feature, and the picture, follow the feature continuously: for music well
inside a category the weights are that category's alone (a score margin of 0.2 over the
next at temperature 0.02 gives it 99.995%), between categories they blend. The weights, shapes,
inputs, outputs and every other node stay as they were; the temperature is recorded in the
file's training_data metadata as `category_pull_temperature`. Needs only `onnx` (no torch,
no checkpoints):

    python -m export.soft_pull generator.onnx generator_soft.onnx --temperature 0.02
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np
import onnx
from google.protobuf.message import DecodeError
from onnx import helper, numpy_helper

TRAINING_DATA_KEY = "musicscape.training_data"


class NoHardPullError(ValueError):
    """The graph has no argmax category pull to soften."""


def _only_consumer(graph: onnx.GraphProto, tensor: str, op_type: str) -> onnx.NodeProto:
    consumers = [node for node in graph.node if tensor in node.input]
    if len(consumers) != 1 or consumers[0].op_type != op_type:
        raise NoHardPullError(f"'{tensor}' does not feed exactly one {op_type} node")
    return consumers[0]


def soften_category_pull(model: onnx.ModelProto, temperature: float) -> onnx.ModelProto:
    """A copy of `model` whose ArgMax -> Unsqueeze -> GatherND(prototypes) pull target is
    softmax(scores / temperature) @ prototypes."""
    if not temperature > 0.0:
        raise ValueError(f"the temperature must be > 0, got {temperature}")
    model = onnx.ModelProto.FromString(model.SerializeToString())
    graph = model.graph
    argmaxes = [node for node in graph.node if node.op_type == "ArgMax"]
    if len(argmaxes) != 1:
        raise NoHardPullError(f"expected one ArgMax node (the hard pull), found {len(argmaxes)}")
    argmax = argmaxes[0]
    unsqueeze = _only_consumer(graph, argmax.output[0], "Unsqueeze")
    gather = _only_consumer(graph, unsqueeze.output[0], "GatherND")
    initializers = {tensor.name: tensor for tensor in graph.initializer}
    prototypes = gather.input[0]
    if prototypes not in initializers:
        raise NoHardPullError("the GatherND does not read a constant table of prototypes")
    scores = argmax.input[0]
    inverse = f"{prototypes}_inverse_temperature"
    graph.initializer.append(
        numpy_helper.from_array(np.array(1.0 / temperature, dtype=np.float32), inverse)
    )
    soft_nodes = [
        helper.make_node("Mul", [scores, inverse], ["soft_pull_logits"], name="soft_pull_mul"),
        helper.make_node(
            "Softmax", ["soft_pull_logits"], ["soft_pull_weights"], axis=1, name="soft_pull_softmax"
        ),
        helper.make_node(
            "MatMul", ["soft_pull_weights", prototypes], [gather.output[0]], name="soft_pull_mean"
        ),
    ]
    position = list(graph.node).index(argmax)
    for node in (argmax, unsqueeze, gather):
        graph.node.remove(node)
    for offset, node in enumerate(soft_nodes):
        graph.node.insert(position + offset, node)
    used = {name for node in graph.node for name in node.input}
    for name in unsqueeze.input[1:]:
        if name in initializers and name not in used:
            graph.initializer.remove(initializers[name])
    for prop in model.metadata_props:
        if prop.key == TRAINING_DATA_KEY:
            training_data = json.loads(prop.value)
            training_data["category_pull_temperature"] = temperature
            prop.value = json.dumps(training_data)
    onnx.checker.check_model(model)
    return model


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m export.soft_pull", description=__doc__)
    parser.add_argument("source", help="generator.onnx with a hard (argmax) category pull")
    parser.add_argument("out", help="where to write the generator with the soft pull")
    parser.add_argument(
        "--temperature", type=float, default=0.02, help="softmax temperature (default 0.02)"
    )
    args = parser.parse_args(argv)
    try:
        model = soften_category_pull(onnx.load(args.source), args.temperature)
    except (NoHardPullError, ValueError, DecodeError, OSError) as error:
        print(f"{args.source}: {error}", file=sys.stderr)
        return 2
    onnx.save(model, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
