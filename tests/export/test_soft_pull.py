"""The hard category pull of an exported generator rewritten into a soft one (onnx only)."""

from __future__ import annotations

import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from export.soft_pull import NoHardPullError, soften_category_pull
from visualizer.app.model_runtime import default_model_dir

PROTOTYPES = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], np.float32)
PULL = 0.5


def hard_pull_model() -> onnx.ModelProto:
    """feature -> feature + PULL * (prototype[argmax(feature @ P.T)] - feature), the node
    pattern torch exports for CategoryPulledGenerator (without the generator after it)."""
    nodes = [
        helper.make_node("MatMul", ["feature", "permute"], ["scores"]),
        helper.make_node("ArgMax", ["scores"], ["best"], axis=1, keepdims=0),
        helper.make_node("Unsqueeze", ["best", "last_axis"], ["index"]),
        helper.make_node("GatherND", ["prototypes", "index"], ["target"]),
        helper.make_node("Sub", ["target", "feature"], ["toward"]),
        helper.make_node("Mul", ["toward", "pull"], ["step"]),
        helper.make_node("Add", ["feature", "step"], ["pulled"]),
    ]
    initializers = [
        numpy_helper.from_array(PROTOTYPES.T.copy(), "permute"),
        numpy_helper.from_array(PROTOTYPES, "prototypes"),
        numpy_helper.from_array(np.array([-1], np.int64), "last_axis"),
        numpy_helper.from_array(np.array(PULL, np.float32), "pull"),
    ]
    graph = helper.make_graph(
        nodes,
        "pull",
        [helper.make_tensor_value_info("feature", TensorProto.FLOAT, ["batch", 3])],
        [helper.make_tensor_value_info("pulled", TensorProto.FLOAT, ["batch", 3])],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    helper.set_model_props(model, {"musicscape.training_data": json.dumps({"category_pull": PULL})})
    return model


def run(model: onnx.ModelProto, feature: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(["pulled"], {"feature": feature})[0]


def test_the_pull_becomes_the_score_weighted_mean_of_the_prototypes():
    features = np.array([[0.9, 0.1, 0.0], [0.5, 0.48, 0.0], [0.2, 0.3, 0.4]], np.float32)
    soft = soften_category_pull(hard_pull_model(), temperature=0.1)
    logits = features @ PROTOTYPES.T / 0.1
    weights = np.exp(logits - logits.max(axis=1, keepdims=True))
    weights /= weights.sum(axis=1, keepdims=True)
    expected = features + PULL * (weights @ PROTOTYPES - features)
    np.testing.assert_allclose(run(soft, features), expected, rtol=1e-5, atol=1e-6)
    assert not [node for node in soft.graph.node if node.op_type in ("ArgMax", "GatherND")]
    assert "last_axis" not in {tensor.name for tensor in soft.graph.initializer}
    props = {prop.key: prop.value for prop in soft.metadata_props}
    assert json.loads(props["musicscape.training_data"]) == {
        "category_pull": PULL,
        "category_pull_temperature": 0.1,
    }


def test_crossing_a_border_is_continuous_where_the_hard_pull_jumps():
    hard, soft = hard_pull_model(), soften_category_pull(hard_pull_model(), temperature=0.02)
    shares = np.linspace(0.0, 1.0, 201, dtype=np.float32)[:, None]
    features = (1.0 - shares) * PROTOTYPES[0] + shares * PROTOTYPES[1]  # sky -> water
    hard_steps = np.abs(np.diff(run(hard, features), axis=0)).max()
    soft_steps = np.abs(np.diff(run(soft, features), axis=0)).max()
    assert hard_steps == pytest.approx(PULL, abs=0.01)  # the argmax flips: a jump of PULL
    # The weight of water is sigmoid((2 * share - 1) / T): its slope is at most 1 / (2T)
    # per unit share, so a step of 0.005 moves the output at most this much.
    step = 0.005
    bound = PULL * step / (2 * 0.02) + (1.0 - PULL) * step
    assert 0.9 * bound < soft_steps <= bound + 1e-6


def test_a_graph_without_a_hard_pull_is_refused():
    soft = soften_category_pull(hard_pull_model(), temperature=0.1)
    with pytest.raises(NoHardPullError, match="expected one ArgMax"):
        soften_category_pull(soft, temperature=0.1)
    with pytest.raises(ValueError, match="temperature must be > 0"):
        soften_category_pull(hard_pull_model(), temperature=0.0)


def test_the_shipped_generator_pulls_softly():
    model = onnx.load(str(default_model_dir() / "generator.onnx"))
    assert not [node for node in model.graph.node if node.op_type == "ArgMax"]
    props = {prop.key: prop.value for prop in model.metadata_props}
    training_data = json.loads(props["musicscape.training_data"])
    assert training_data["category_pull_temperature"] == 0.02


def test_a_file_that_is_not_onnx_is_refused_in_one_line(tmp_path, capsys):
    from export.soft_pull import main

    garbage = tmp_path / "generator.onnx"
    garbage.write_bytes(b"RIFF not a model")
    out = tmp_path / "soft.onnx"
    assert main([str(garbage), str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{garbage}: Error parsing message") and err.count("\n") == 1
    assert not out.exists()
