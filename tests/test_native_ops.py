"""The operators detectors and face finders need, one small graph each, on
the native backend against onnxruntime: Resize (every coordinate and nearest
mode, nearest and linear, scales and sizes, up and down), Upsample, Split,
PRelu, Swish / Sigmoid*x and HardSwish after a Conv, Softmax on every axis,
and Slice / Concat / Transpose / Reshape on values computed per run. Plus
what is refused, and that a refusal names every blocking node at once."""
import itertools

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from edgeinfer.errors import ModelError
from edgeinfer.native import NativeBackend, NativeModelError

ort = pytest.importorskip("onnxruntime")

TOLERANCE = 1e-5


def model_of(nodes, inputs, outputs, initializers=(), opset=19):
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in outputs],
        [numpy_helper.from_array(np.asarray(v), n) for n, v in initializers])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def both(model, seed=0):
    """(native outputs, onnxruntime outputs) for random inputs."""
    rng = np.random.default_rng(seed)
    feed = {i.name: rng.standard_normal([d.dim_value for d in i.type.tensor_type.shape.dim])
            .astype(np.float32) for i in model.graph.input}
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return NativeBackend(model).run(feed), session.run(None, feed)


def assert_same(model, seed=0):
    got, want = both(model, seed)
    for g, w in zip(got, want):
        assert g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=TOLERANCE, atol=TOLERANCE)


def resize_model(shape, mode, coordinates, nearest="round_prefer_floor", scales=None,
                 sizes=None, opset=19):
    inputs = ["x", "", "scales" if scales is not None else "", "sizes" if sizes is not None else ""]
    constants = [(n, np.array(v, np.float32 if n == "scales" else np.int64))
                 for n, v in (("scales", scales), ("sizes", sizes)) if v is not None]
    node = helper.make_node("Resize", [i for i in inputs[:3 if sizes is None else 4]], ["y"],
                            mode=mode, coordinate_transformation_mode=coordinates,
                            nearest_mode=nearest)
    return model_of([node], [("x", shape)], ["y"], constants, opset)


COORDINATES = ("half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners",
               "asymmetric")
NEAREST = ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil")
SIZES = ((1, 2, 16, 16), (1, 2, 3, 3), (1, 2, 9, 5), (1, 2, 5, 13), (1, 2, 1, 7))


@pytest.mark.parametrize("coordinates,nearest", itertools.product(COORDINATES, NEAREST))
@pytest.mark.parametrize("sizes", SIZES)
def test_resize_nearest_matches_onnxruntime(coordinates, nearest, sizes):
    assert_same(resize_model((1, 2, 6, 7), "nearest", coordinates, nearest, sizes=sizes))


@pytest.mark.parametrize("coordinates", COORDINATES)
@pytest.mark.parametrize("sizes", SIZES)
def test_resize_linear_matches_onnxruntime(coordinates, sizes):
    assert_same(resize_model((1, 2, 6, 7), "linear", coordinates, sizes=sizes))


# binary fractions: source positions land exactly on whole pixels in float32
# (onnxruntime) and float64 (the ONNX reference) alike
@pytest.mark.parametrize("scales", [(1, 1, 2, 2), (1, 1, 3, 1.5), (1, 1, 0.5, 0.75),
                                    (1, 1, 1.25, 0.625)])
@pytest.mark.parametrize("mode", ["nearest", "linear"])
def test_resize_by_scales_matches_onnxruntime(scales, mode):
    for coordinates in ("asymmetric", "half_pixel"):
        assert_same(resize_model((1, 3, 8, 10), mode, coordinates, "floor", scales=scales))


def test_resize_follows_the_onnx_reference_where_onnxruntime_rounds_differently():
    """3 / 0.6 is 5.000000000000001 in float64 (the ONNX definition and its
    reference), 4.9999998 in onnxruntime's float32: the conformance cases
    follow the reference, and so does the native backend."""
    from onnx.reference import ReferenceEvaluator

    x = np.arange(240, dtype=np.float32).reshape(1, 3, 8, 10)
    for coordinates in ("asymmetric", "half_pixel"):
        model = resize_model(x.shape, "nearest", coordinates, "floor", scales=(1, 1, 0.5, 0.6))
        want = ReferenceEvaluator(model).run(None, {"x": x})[0]
        np.testing.assert_array_equal(NativeBackend(model).run({"x": x})[0], want)


def test_resize_by_scales_at_opset_11_and_upsample_at_opset_9():
    """What PyTorch's and older converters write for a 2x nearest upsample."""
    node = helper.make_node("Resize", ["x", "roi", "scales"], ["y"], mode="nearest",
                            coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    assert_same(model_of([node], [("x", (1, 3, 4, 5))], ["y"],
                         [("roi", np.zeros(0, np.float32)),
                          ("scales", np.array([1, 1, 2, 2], np.float32))], opset=11))
    node = helper.make_node("Upsample", ["x", "scales"], ["y"], mode="nearest")
    assert_same(model_of([node], [("x", (1, 3, 4, 5))], ["y"],
                         [("scales", np.array([1, 1, 2, 3], np.float32))], opset=9))


def test_integer_nearest_upsample_is_one_broadcast_copy():
    """The detector's 2x upsample takes the single-copy path, and is exact."""
    model = resize_model((1, 4, 5, 6), "nearest", "asymmetric", "floor", scales=(1, 1, 2, 2))
    x = np.arange(120, dtype=np.float32).reshape(1, 4, 5, 6)
    got = NativeBackend(model).run({"x": x})[0]
    np.testing.assert_array_equal(got, x.repeat(2, axis=2).repeat(2, axis=3))


def test_resize_refuses_cubic_and_antialiased_shrinking():
    cubic = resize_model((1, 1, 4, 4), "cubic", "half_pixel", scales=(1, 1, 2, 2))
    with pytest.raises(NativeModelError, match="mode 'cubic'.*use --backend onnxruntime"):
        NativeBackend(cubic)
    node = helper.make_node("Resize", ["x", "", "scales"], ["y"], mode="linear", antialias=1)
    shrink = model_of([node], [("x", (1, 1, 8, 8))], ["y"],
                      [("scales", np.array([1, 1, 0.5, 0.5], np.float32))])
    with pytest.raises(NativeModelError, match="antialias"):
        NativeBackend(shrink)


@pytest.mark.parametrize("split,axis", [((2, 6), 1), ((4, 4), 1), ((1, 2, 3), 2), ((3, 3), -1)])
def test_split_of_run_time_values_matches_onnxruntime(split, axis):
    shape = [2, 8, 6, 6]
    shape[axis] = sum(split)
    outputs = [f"y{i}" for i in range(len(split))]
    nodes = [helper.make_node("Relu", ["x"], ["r"]),
             helper.make_node("Split", ["r", "split"], outputs, axis=axis)]
    model = model_of(nodes, [("x", shape)], outputs, [("split", np.array(split, np.int64))],
                     opset=13)
    assert_same(model)
    plan = NativeBackend(model).plan_summary()["operators"]
    assert plan.get("Split") == 1


def test_split_into_equal_parts_by_num_outputs_at_opset_18():
    nodes = [helper.make_node("Relu", ["x"], ["r"]),
             helper.make_node("Split", ["r"], ["a", "b", "c"], axis=1, num_outputs=3)]
    assert_same(model_of(nodes, [("x", (1, 7, 3))], ["a", "b", "c"], opset=18))


@pytest.mark.parametrize("slope_shape", [(3, 1, 1), (1,), (5,), (1, 3, 1, 1)])
@pytest.mark.parametrize("low", [0.0, -0.5])
def test_prelu_matches_onnxruntime(slope_shape, low):
    """Slopes in [0, 1] take the two-pass path; negative ones the general one."""
    slope = np.random.default_rng(3).uniform(low, 0.9, slope_shape).astype(np.float32)
    nodes = [helper.make_node("PRelu", ["x", "slope"], ["y"])]
    assert_same(model_of(nodes, [("x", (2, 3, 4, 5))], ["y"], [("slope", slope)], opset=16))


def conv_then(activation_nodes, output="y"):
    w = np.random.default_rng(2).standard_normal((6, 3, 3, 3)).astype(np.float32) * 0.5
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1])] + activation_nodes
    return model_of(nodes, [("x", (1, 3, 9, 9))], [output], [("w", w)], opset=17)


@pytest.mark.parametrize("order", ["x*sigmoid", "sigmoid*x"])
def test_silu_after_conv_runs_in_the_conv_step(order):
    mul_inputs = ["c", "s"] if order == "x*sigmoid" else ["s", "c"]
    model = conv_then([helper.make_node("Sigmoid", ["c"], ["s"]),
                       helper.make_node("Mul", mul_inputs, ["y"])])
    assert_same(model)
    assert NativeBackend(model).plan_summary()["operators"] == {"Conv+silu": 1}


def test_hard_swish_after_conv_runs_in_the_conv_step():
    model = conv_then([helper.make_node("HardSwish", ["c"], ["y"])])
    assert_same(model)
    assert NativeBackend(model).plan_summary()["operators"] == {"Conv+hard_swish": 1}


@pytest.mark.parametrize("alpha", [None, 0.1, -0.3, 1.7])
def test_leaky_relu_after_conv_runs_in_the_conv_step_with_its_slope(alpha):
    """A LeakyRelu after a Conv (the small CNN's last 1x1) is no step of its
    own; its alpha, given or the default 0.01, is the slope the step applies."""
    attrs = {} if alpha is None else {"alpha": alpha}
    model = conv_then([helper.make_node("LeakyRelu", ["c"], ["y"], **attrs)])
    assert_same(model)
    assert NativeBackend(model).plan_summary()["operators"] == {"Conv+leaky_relu": 1}


def test_leaky_relu_after_conv_with_residual_add_applies_after_the_add():
    """Conv -> Add(skip) -> LeakyRelu: the residual in the conv's write, then
    the slope on the sum, all one step."""
    w = np.random.default_rng(2).standard_normal((3, 3, 1, 1)).astype(np.float32)
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"]),
             helper.make_node("Add", ["c", "x"], ["s"]),
             helper.make_node("LeakyRelu", ["s"], ["y"], alpha=0.2)]
    model = model_of(nodes, [("x", (1, 3, 9, 9))], ["y"], [("w", w)], opset=17)
    assert_same(model)
    assert NativeBackend(model).plan_summary()["operators"] == {"Conv+residual+leaky_relu": 1}


def test_silu_whose_input_is_also_read_elsewhere_stays_correct():
    """The conv output feeds the SiLU and an Add: no fusion into the conv, one Swish step."""
    model = conv_then([helper.make_node("Sigmoid", ["c"], ["s"]),
                       helper.make_node("Mul", ["c", "s"], ["m"]),
                       helper.make_node("Add", ["m", "c"], ["y"])])
    assert_same(model)
    assert NativeBackend(model).plan_summary()["operators"] == {"Conv": 1, "Swish": 1, "Add": 1}


def test_swish_operator_of_opset_24():
    model = model_of([helper.make_node("Swish", ["x"], ["y"])], [("x", (2, 5, 7))], ["y"],
                     opset=24)
    x = np.random.default_rng(0).standard_normal((2, 5, 7)).astype(np.float32) * 4
    got = NativeBackend(model).run({"x": x})[0]
    np.testing.assert_allclose(got, x / (1 + np.exp(-x.astype(np.float64))), rtol=1e-6,
                               atol=1e-6)


@pytest.mark.parametrize("axis", [0, 1, 2, 3, -1, -2])
def test_softmax_on_any_axis(axis):
    nodes = [helper.make_node("Relu", ["x"], ["r"]), helper.make_node("Softmax", ["r"], ["y"],
                                                                       axis=axis)]
    assert_same(model_of(nodes, [("x", (2, 3, 4, 5))], ["y"], opset=13))


def test_data_movement_on_run_time_values():
    """A detect head's reshape / transpose / slice / concat of per-run tensors."""
    nodes = [helper.make_node("Relu", ["x"], ["r"]),
             helper.make_node("Reshape", ["r", "shape"], ["v"]),
             helper.make_node("Transpose", ["v"], ["t"], perm=[0, 2, 1, 3]),
             helper.make_node("Slice", ["t", "starts", "ends", "axes"], ["s"]),
             helper.make_node("Concat", ["s", "t"], ["y"], axis=1)]
    model = model_of(nodes, [("x", (1, 8, 4, 4))], ["y"],
                     [("shape", np.array([1, 4, 2, 16], np.int64)),
                      ("starts", np.array([1], np.int64)), ("ends", np.array([2], np.int64)),
                      ("axes", np.array([1], np.int64))], opset=13)
    assert_same(model)
    left = NativeBackend(model).plan_summary()["operators"]
    assert {"Transpose", "Slice", "Concat"} <= set(left)


def test_refusal_names_every_blocking_operator_and_node_at_once():
    """The first refusal used to hide the rest: a user fixed one node and met the next."""
    nodes = [helper.make_node("Erf", ["x"], ["e"], name="erf1"),
             helper.make_node("Resize", ["e", "", "scales"], ["r"], mode="cubic", name="up"),
             helper.make_node("Relu", ["r"], ["a"]),
             helper.make_node("MaxPool", ["a"], ["p", "idx"], kernel_shape=[2, 2], name="pool"),
             helper.make_node("GridSample", ["p", "grid"], ["y"], name="sample")]
    model = model_of(nodes, [("x", (1, 2, 4, 4)), ("grid", (1, 2, 2, 2))], ["y"],
                     [("scales", np.array([1, 1, 2, 2], np.float32))], opset=16)
    with pytest.raises(NativeModelError) as error:
        NativeBackend(model)
    message = str(error.value)
    for part in ("Erf, GridSample", "'erf1'", "'sample'", "Resize node 'up'", "cubic",
                 "MaxPool node 'pool'", "Indices", "use --backend onnxruntime"):
        assert part in message
    assert "\n" not in message


def test_conv_kernel_larger_than_its_padded_input_is_refused_at_load():
    """Planned as an empty output before Conv and the public conv2d shared one geometry."""
    nodes = [helper.make_node("Conv", ["x", "w"], ["y"], name="big", pads=[0, 0, 0, 0])]
    model = model_of(nodes, [("x", (1, 1, 2, 2))], ["y"],
                     [("w", np.ones((1, 1, 3, 3), np.float32))])
    with pytest.raises(NativeModelError, match=r"Conv node 'big'.*larger than the padded input"):
        NativeBackend(model)


def test_reduce_axis_outside_the_tensor_is_refused_at_load():
    """Found by fuzzing the native loader: a ReduceMean whose axes named axis 33 of a
    rank-3 tensor loaded, and its first run raised numpy's AxisError."""
    model = model_of([helper.make_node("ReduceMean", ["x"], ["y"], name="bad", axes=[33])],
                     [("x", (1, 2, 3))], ["y"], opset=17)
    with pytest.raises(ModelError, match=r"node 'bad'.*axis outside a rank-3 tensor"):
        NativeBackend(model)
