"""The native executor's plan: the arena never lets two live tensors share
bytes, and graphs whose outputs are also read later, are views, or are inputs
come out as the ONNX reference evaluator computes them."""
import numpy as np
from hypothesis import given, strategies as st
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

from edgeinfer.native import NativeBackend
from edgeinfer.native.memory import ALIGN, Lifetime, place


@st.composite
def lifetimes(draw):
    items = []
    for i in range(draw(st.integers(1, 30))):
        first = draw(st.integers(0, 20))
        items.append(Lifetime(f"t{i}", draw(st.integers(0, 5000)), first,
                              first + draw(st.integers(0, 8))))
    return items


@given(lifetimes())
def test_live_tensors_never_share_bytes(items):
    offsets, total = place(items)
    spans = {t.name: (offsets[t.name], offsets[t.name] + max(t.nbytes, 1)) for t in items}
    for t in items:
        start, end = spans[t.name]
        assert start % ALIGN == 0 and end <= total
        for u in items:
            if u.name < t.name and u.first <= t.last and t.first <= u.last:
                other = spans[u.name]
                assert end <= other[0] or other[1] <= start, (t, u)


def test_arena_is_no_larger_than_the_peak_of_live_tensors_needs():
    # a chain: each tensor lives from its step to the next, so two at a time
    chain = [Lifetime(f"t{i}", 1000, i, i + 1) for i in range(10)]
    _, total = place(chain)
    assert total <= 2 * 1024


def test_outputs_that_are_read_later_views_or_inputs():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 4, 4])
    outputs = [helper.make_tensor_value_info(name, TensorProto.FLOAT, None)
               for name in ("relu", "flat", "x", "final")]
    nodes = [helper.make_node("Relu", ["x"], ["relu"]),
             helper.make_node("Flatten", ["relu"], ["flat"]),
             helper.make_node("MaxPool", ["relu"], ["pool"], kernel_shape=[2, 2]),
             helper.make_node("Mul", ["pool", "scale"], ["scaled"]),
             helper.make_node("GlobalAveragePool", ["scaled"], ["final"])]
    scale = numpy_helper.from_array(np.arange(3, dtype=np.float32).reshape(1, 3, 1, 1), "scale")
    graph = helper.make_graph(nodes, "g", [x], outputs, [scale])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    feed = {"x": np.random.default_rng(0).standard_normal((2, 3, 4, 4)).astype(np.float32)}
    backend = NativeBackend(model)
    for _ in range(2):      # the second run reuses every buffer
        got = backend.run(feed)
        want = ReferenceEvaluator(model).run(None, feed)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-6)
    # outputs are the caller's: changing them changes nothing inside
    got[0][...] = 7
    np.testing.assert_allclose(backend.run(feed)[0], want[0], rtol=1e-6)
