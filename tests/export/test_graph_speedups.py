"""export.graph_speedups: each rewrite gives numpy's answer, and what it cannot prove static
stays as it was."""

import numpy as np
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from export.graph_speedups import MIN_REDUCED_ELEMENTS, speed_up_graph

OPSET = 18


def _model(nodes, shape, initializers, output_count=1):
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [
            helper.make_tensor_value_info(f"y{i}", TensorProto.FLOAT, None)
            for i in range(output_count)
        ],
        initializers,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])


def _run(model, x):
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})


def _mean_model(axis: int, keepdims: int, shape):
    axes = numpy_helper.from_array(np.asarray([axis], np.int64), "axes")
    node = helper.make_node("ReduceMean", ["x", "axes"], ["y0"], keepdims=keepdims)
    return _model([node], shape, [axes])


@pytest.mark.parametrize(
    ("shape", "axis"),
    [((2, 3, 120, 600), 0), ((2, 3, 120, 600), 1), ((2, 3, 120, 600), 2), ((2, 3, 120, 600), -3),
     ((3, 70000), 1), ((3, 70000), -1)],
)  # fmt: skip
@pytest.mark.parametrize("keepdims", [0, 1])
def test_a_mean_over_one_large_static_axis_becomes_products_with_numpys_answer(
    shape, axis, keepdims
):
    x = np.random.default_rng(len(shape) + abs(axis)).normal(size=shape).astype(np.float32)
    model = _mean_model(axis, keepdims, list(shape))
    assert speed_up_graph(model) == 1
    assert "ReduceMean" not in {node.op_type for node in model.graph.node}
    assert "MatMul" in {node.op_type for node in model.graph.node}
    (got,) = _run(model, x)
    expected = x.mean(axis=axis, keepdims=bool(keepdims))
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)


def test_a_reduction_of_fewer_values_than_the_threshold_stays():
    # axis 2 of [2, 3, 120, 600] reduces 120 x 600 = 72,000 values a row; axis 3 only 600
    assert 600 < MIN_REDUCED_ELEMENTS <= 120 * 600
    model = _mean_model(3, 1, [2, 3, 120, 600])
    assert speed_up_graph(model) == 0
    assert [node.op_type for node in model.graph.node] == ["ReduceMean"]


def test_a_symbolic_batch_before_the_axis_is_kept_and_runs_at_any_batch():
    model = _mean_model(2, 1, ["batch", 1, 1024, 689])
    assert speed_up_graph(model) == 1
    for batch in (1, 3):
        x = np.random.default_rng(batch).uniform(-1, 1, (batch, 1, 1024, 689)).astype(np.float32)
        (got,) = _run(model, x)
        np.testing.assert_allclose(got, x.mean(axis=2, keepdims=True), rtol=0, atol=1e-6)


def test_a_mean_over_a_symbolic_or_later_symbolic_axis_or_two_axes_stays():
    for axis, shape in ((1, [2, "n", 70000]), (0, [2, 300, "t"])):
        model = _mean_model(axis, 1, shape)
        assert speed_up_graph(model) == 0
        assert [node.op_type for node in model.graph.node] == ["ReduceMean"]
    axes = numpy_helper.from_array(np.asarray([1, 2], np.int64), "axes")
    two = _model([helper.make_node("ReduceMean", ["x", "axes"], ["y0"])], [2, 300, 300], [axes])
    assert speed_up_graph(two) == 0


def test_a_sum_becomes_a_product_with_ones_and_an_integer_sum_stays():
    axes = numpy_helper.from_array(np.asarray([1], np.int64), "axes")
    node = helper.make_node("ReduceSum", ["x", "axes"], ["y0"], keepdims=0)
    model = _model([node], [3, 300, 300], [axes])
    assert speed_up_graph(model) == 1
    x = np.random.default_rng(1).normal(size=(3, 300, 300)).astype(np.float32)
    (got,) = _run(model, x)
    np.testing.assert_allclose(got, x.sum(axis=1), rtol=0, atol=1e-4)
    graph = helper.make_graph(
        [helper.make_node("ReduceSum", ["x", "axes"], ["y0"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.INT64, [3, 300, 300])],
        [helper.make_tensor_value_info("y0", TensorProto.INT64, None)],
        [axes],
    )
    integers = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    assert speed_up_graph(integers) == 0


def test_a_square_becomes_a_product_and_other_powers_stay():
    two = numpy_helper.from_array(np.asarray(2.0, np.float32), "two")
    three = numpy_helper.from_array(np.asarray(3.0, np.float32), "three")
    nodes = [
        helper.make_node("Pow", ["x", "two"], ["y0"]),
        helper.make_node("Pow", ["x", "three"], ["y1"]),
    ]
    model = _model(nodes, [4, 5], [two, three], output_count=2)
    assert speed_up_graph(model) == 1
    assert [node.op_type for node in model.graph.node] == ["Mul", "Pow"]
    # the square's exponent is read by no node any more and is dropped; the cube's stays
    assert sorted(init.name for init in model.graph.initializer) == ["three"]
    x = np.random.default_rng(0).normal(size=(4, 5)).astype(np.float32)
    square, cube = _run(model, x)
    np.testing.assert_array_equal(square, x * x)
    np.testing.assert_allclose(cube, x**3, rtol=1e-6)


def test_rewriting_twice_changes_nothing_more():
    model = _mean_model(1, 0, [2, 300, 300])
    assert speed_up_graph(model) == 1
    once = model.SerializeToString()
    assert speed_up_graph(model) == 0
    assert model.SerializeToString() == once


def test_an_initializer_read_only_inside_a_subgraph_is_kept():
    # y0 = x^2 (rewritten, its exponent dropped); y1 = If(x's first value > 0) then x + bias
    # else x, where only the then-branch reads the outer graph's `bias`
    two = numpy_helper.from_array(np.asarray(2.0, np.float32), "two")
    bias = numpy_helper.from_array(np.full((4, 5), 1.5, np.float32), "bias")
    zero = numpy_helper.from_array(np.asarray(0.0, np.float32), "zero")
    output = [helper.make_tensor_value_info("branch", TensorProto.FLOAT, None)]
    then_graph = helper.make_graph(
        [helper.make_node("Add", ["x", "bias"], ["branch"])], "t", [], output
    )
    else_graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["branch"])], "e", [], output
    )
    nodes = [
        helper.make_node("Pow", ["x", "two"], ["y0"]),
        helper.make_node("ReduceMax", ["x"], ["top"], keepdims=0),
        helper.make_node("Greater", ["top", "zero"], ["positive"]),
        helper.make_node(
            "If", ["positive"], ["y1"], then_branch=then_graph, else_branch=else_graph
        ),
    ]
    model = _model(nodes, [4, 5], [two, bias, zero], output_count=2)
    assert speed_up_graph(model) == 1
    assert sorted(init.name for init in model.graph.initializer) == ["bias", "zero"]
    x = np.random.default_rng(0).normal(size=(4, 5)).astype(np.float32)
    square, shifted = _run(model, x)
    np.testing.assert_array_equal(square, x * x)
    np.testing.assert_array_equal(shifted, x + np.float32(1.5))
