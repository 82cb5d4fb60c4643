"""QDQ-quantised models (onnxruntime's static quantisation, what `convert
--quantize int8` writes) on the native backend, against onnxruntime running
the same file. The native backend computes with the quantised values and
rounds as ONNX does; onnxruntime's integer kernels requantise with their own
float arithmetic, so an output may differ by one quantisation step of that
output (documented in docs/native.md)."""
import os
import sys

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

ort = pytest.importorskip("onnxruntime")

from edgeinfer.native import NativeBackend  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir, "tools"))
from small_cnns import mobile_cnn  # noqa: E402


def quantize(model, shape, tmp_path, seed=0, images=8):
    """The U8S8 per-channel QDQ twin of `model`, calibrated on seeded noise."""
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static

    rng = np.random.default_rng(seed)
    name = model.graph.input[0].name
    tensors = [rng.standard_normal(shape).astype(np.float32) for _ in range(images)]

    class Reader:
        def get_next(self):
            return {name: tensors.pop(0)} if tensors else None

    source, target = tmp_path / "float.onnx", tmp_path / "int8.onnx"
    onnx.save(model, str(source))
    quantize_static(str(source), str(target), Reader(), quant_format=QuantFormat.QDQ,
                    per_channel=True, activation_type=QuantType.QUInt8,
                    weight_type=QuantType.QInt8)
    return str(target)


def onnxruntime_session(path):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def output_step(path):
    """The scale of the QuantizeLinear that makes the graph's output's last
    quantised value (its quantisation step)."""
    model = onnx.load(path)
    constants = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    last = [n for n in model.graph.node if n.op_type == "QuantizeLinear"][-1]
    return float(constants[last.input[1]])


def test_qdq_mobile_cnn_matches_onnxruntime(tmp_path):
    path = quantize(mobile_cnn(seed=0, size=32), (1, 3, 32, 32), tmp_path)
    native, session = NativeBackend(path, threads=1), onnxruntime_session(path)
    step = output_step(path)
    rng = np.random.default_rng(1)
    for _ in range(5):
        x = rng.standard_normal((1, 3, 32, 32)).astype(np.float32)
        expected = session.run(None, {"image": x})[0]
        got = native.run({"image": x})[0]
        assert np.abs(got - expected).max() <= step * 1.001
        assert got.argmax() == expected.argmax()


def test_weight_dequantize_is_folded_at_load(tmp_path):
    path = quantize(mobile_cnn(seed=0, size=32), (1, 3, 32, 32), tmp_path)
    model = onnx.load(path)
    initializers = {t.name for t in model.graph.initializer}
    of_weights = sum(n.op_type == "DequantizeLinear" and n.input[0] in initializers
                     for n in model.graph.node)
    in_file = sum(n.op_type == "DequantizeLinear" for n in model.graph.node)
    assert of_weights > 0
    steps = NativeBackend(path, threads=1).plan_summary()["operators"]
    assert steps.get("DequantizeLinear", 0) <= in_file - of_weights


def _qdq_model(x_shape, scale, zero, axis=None, zero_type=TensorProto.UINT8):
    scale_init = numpy_helper.from_array(np.asarray(scale, np.float32), "scale")
    zero_init = helper.make_tensor("zero", zero_type, np.shape(zero),
                                   np.asarray(zero).reshape(-1).tolist())
    attrs = {} if axis is None else {"axis": axis}
    nodes = [helper.make_node("QuantizeLinear", ["x", "scale", "zero"], ["q"], **attrs),
             helper.make_node("DequantizeLinear", ["q", "scale", "zero"], ["y"], **attrs)]
    graph = helper.make_graph(
        nodes, "qdq", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x_shape))],
        [helper.make_tensor_value_info("q", zero_type, list(x_shape)),
         helper.make_tensor_value_info("y", TensorProto.FLOAT, list(x_shape))],
        [scale_init, zero_init])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)


def test_quantize_rounds_half_to_even_and_saturates():
    # 0.5 and 2.5 steps round down to even, 1.5 up; beyond the range saturates
    model = _qdq_model((1, 8), 0.5, 10)
    x = np.array([[0.25, 0.75, 1.25, -0.25, 1000.0, -1000.0, 3.0, -5.25]], np.float32)
    native, session = NativeBackend(model), onnxruntime_session(model.SerializeToString())
    for got, expected in zip(native.run({"x": x}), session.run(None, {"x": x})):
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(native.run({"x": x})[0], [[10, 12, 12, 10, 255, 0, 16, 0]])


@pytest.mark.parametrize("zero_type", [TensorProto.UINT8, TensorProto.INT8])
def test_per_channel_quantize_dequantize_of_activations(zero_type):
    rng = np.random.default_rng(3)
    scale = rng.uniform(0.01, 0.1, 4)
    zero = rng.integers(0, 100, 4) if zero_type == TensorProto.UINT8 else \
        rng.integers(-50, 50, 4)
    model = _qdq_model((2, 4, 3, 5), scale, zero, axis=1, zero_type=zero_type)
    x = (rng.standard_normal((2, 4, 3, 5)) * 4).astype(np.float32)
    native, session = NativeBackend(model), onnxruntime_session(model.SerializeToString())
    for got, expected in zip(native.run({"x": x}), session.run(None, {"x": x})):
        np.testing.assert_array_equal(got, expected)


def test_qdq_model_from_the_plan_cache_runs_the_same(tmp_path, monkeypatch):
    """The integer steps are part of the cached plan: a second start, read from the
    cache, runs the same QuantizedConv steps and gives the same outputs."""
    monkeypatch.setenv("EDGEINFER_CACHE_DIR", str(tmp_path / "cache"))
    path = quantize(mobile_cnn(seed=0, size=32), (1, 3, 32, 32), tmp_path)
    x = np.random.default_rng(2).standard_normal((1, 3, 32, 32)).astype(np.float32)
    first = NativeBackend(path, threads=1)
    expected = first.run({"image": x})[0]
    assert any(os.scandir(tmp_path / "cache" / "plans")), "the first start wrote no plan"
    again = NativeBackend(path, threads=1)
    np.testing.assert_array_equal(again.run({"image": x})[0], expected)
    ops = [step.op for step in again._plans[next(iter(again._plans))].nodes]
    assert "QuantizedConv" in ops


def test_depthwise_and_residual_add_stay_uint8(tmp_path):
    """The seeded CNN's depthwise Conv and its residual Add run on uint8
    (QuantizedConv with pads, QuantizedAdd): no Dequantize -> float ->
    Quantize round trip between quantised steps."""
    path = quantize(mobile_cnn(seed=0, size=32), (1, 3, 32, 32), tmp_path)
    plan = NativeBackend(path, threads=1)._plans
    nodes = next(iter(plan.values())).nodes
    ops = [node.op for node in nodes]
    assert "QuantizedAdd" in ops
    assert any(node.op == "QuantizedConv" and node.attr("pads") is not None for node in nodes)
    float_convs = [node for node in nodes if node.op == "Conv"]
    assert all(node.attr("group", 1) == 1 for node in float_convs), "a depthwise Conv ran in float"


def _qdq_conv_model(channels, kernel, bias, w_value=1, w_scale=1 / 32, y_scale=0.05,
                    float_bias=False):
    """x float -> Q/DQ uint8 -> Conv (depthwise `kernel` x `kernel`, or a plain
    1x1 when kernel is 1) with int8 weights all `w_value` and the int32 `bias`
    (or, with float_bias, that float bias given as it is, no DequantizeLinear)
    -> Q/DQ uint8; built by hand, so it can hold what a quantiser would not."""
    depthwise = kernel > 1
    w_shape = (channels, 1, kernel, kernel) if depthwise else (channels, channels, 1, 1)
    x_scale, w_scale = np.float32(1 / 64), np.full(channels, w_scale, np.float32)
    inits = [
        numpy_helper.from_array(np.array(x_scale, np.float32), "x_scale"),
        numpy_helper.from_array(np.array(128, np.uint8), "x_zero"),
        numpy_helper.from_array(np.full(w_shape, w_value, np.int8), "w_q"),
        numpy_helper.from_array(w_scale, "w_scale"),
        numpy_helper.from_array(np.asarray(bias, np.float32 if float_bias else np.int32),
                                "b" if float_bias else "b_q"),
        numpy_helper.from_array((x_scale * w_scale)[:len(bias)], "b_scale"),
        numpy_helper.from_array(np.array(y_scale, np.float32), "y_scale"),
        numpy_helper.from_array(np.array(0, np.uint8), "y_zero")]
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "x_scale", "x_zero"], ["xq"]),
        helper.make_node("DequantizeLinear", ["xq", "x_scale", "x_zero"], ["xd"]),
        helper.make_node("DequantizeLinear", ["w_q", "w_scale"], ["w"], axis=0),
    ] + ([] if float_bias else [
        helper.make_node("DequantizeLinear", ["b_q", "b_scale"], ["b"], axis=0)]) + [
        helper.make_node("Conv", ["xd", "w", "b"], ["conv"], name="dw",
                         group=channels if depthwise else 1,
                         pads=[kernel // 2] * 4, kernel_shape=[kernel, kernel]),
        helper.make_node("QuantizeLinear", ["conv", "y_scale", "y_zero"], ["yq"]),
        helper.make_node("DequantizeLinear", ["yq", "y_scale", "y_zero"], ["y"])]
    graph = helper.make_graph(
        nodes, "qdq_conv",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, channels, 6, 6])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, channels, 6, 6])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    return model


def test_qdq_depthwise_bias_shorter_than_channels_is_refused_at_load(tmp_path):
    """The C kernel reads one bias per channel: a 64-channel depthwise Conv
    with a one-value int32 bias would read past it, so the load refuses the
    model (as onnxruntime does), naming the node."""
    from edgeinfer.native import NativeModelError

    path = tmp_path / "short_bias.onnx"
    onnx.save(_qdq_conv_model(64, 3, [5]), str(path))
    with pytest.raises(NativeModelError, match=r"'dw'.*bias of shape \(1,\) for 64"):
        NativeBackend(str(path), threads=1)


def _plan_ops(native):
    return [node.op for node in next(iter(native._plans.values())).nodes]


def _reference_run(path, x):
    """onnxruntime's unfused DQ -> Conv -> Q: what the ONNX graph means."""
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})[0]


@pytest.mark.parametrize("kernel", [3, 1])
def test_qdq_conv_saturated_bias_channels_fold_to_their_constant_output(tmp_path, kernel):
    """bias + sum near 2^31 would overflow the integer kernels' int32 sums
    (wrapping to 0 on the vector paths); channels whose output saturates for
    every input become zero weights with a bias that writes the saturated
    value, so the node keeps the integer kernel and gives what onnxruntime's
    reference DQ -> Conv -> Q gives."""
    bias = [2 ** 31 - 100, -(2 ** 31) + 100, 7, 0]
    path = tmp_path / "huge_bias.onnx"
    onnx.save(_qdq_conv_model(4, kernel, bias), str(path))
    native = NativeBackend(str(path), threads=1)
    assert "QuantizedConv" in _plan_ops(native)
    x = np.random.default_rng(0).uniform(0.5, 1.9, (1, 4, 6, 6)).astype(np.float32)
    expected = _reference_run(path, x)
    got = native.run({"x": x})[0]
    assert np.allclose(expected[0, 0], 255 * 0.05) and np.allclose(expected[0, 1], 0)
    np.testing.assert_allclose(got, expected, atol=0.05 * 1.001)


@pytest.mark.parametrize("kernel", [3, 1])
def test_qdq_conv_dead_channel_with_tiny_weight_scale_keeps_the_integer_kernel(tmp_path, kernel):
    """What --quantize int8 writes for a channel of (near) zero weights: a
    weight scale of 1e-9, so the float bias in units of x_scale * w_scale
    saturates at 2^31 - 1. EfficientNet-Lite0 has such channels in 12 convs,
    which ran on the float path, Q/DQ passes and all; their output is one
    value for every input, so the node runs on the integer kernel."""
    bias = [2 ** 31 - 1, -(2 ** 31) + 1, 2 ** 31 - 1, 0]
    path = tmp_path / "dead_channel.onnx"
    onnx.save(_qdq_conv_model(4, kernel, bias, w_value=3, w_scale=1e-9), str(path))
    native = NativeBackend(str(path), threads=1)
    assert "QuantizedConv" in _plan_ops(native)
    x = np.random.default_rng(1).uniform(0.5, 1.9, (1, 4, 6, 6)).astype(np.float32)
    np.testing.assert_allclose(native.run({"x": x})[0], _reference_run(path, x), atol=1e-6)


@pytest.mark.parametrize("kernel", [3, 1])
def test_qdq_conv_dead_channel_with_float_bias_folds_to_its_true_bias(tmp_path, kernel):
    """A float bias of 0.5 over x_scale * w_scale = 1.6e-11 is 3.2e10 in sum
    units, past int32: the fold must use that true bias (output 0.5, ten
    steps), not one clamped to 2^31 - 1 (output 0.05), and write a value no
    int32 bias times the channel's multiplier could reach."""
    path = tmp_path / "float_bias.onnx"
    onnx.save(_qdq_conv_model(4, kernel, [0.5, 0.1, 0.2, 0.0], w_value=3, w_scale=1e-9,
                              float_bias=True), str(path))
    native = NativeBackend(str(path), threads=1)
    assert "QuantizedConv" in _plan_ops(native)
    x = np.random.default_rng(5).uniform(0.5, 1.9, (1, 4, 6, 6)).astype(np.float32)
    expected = _reference_run(path, x)
    assert np.allclose(expected[0, 0], 0.5)
    np.testing.assert_allclose(native.run({"x": x})[0], expected, atol=1e-6)


def test_qdq_conv_bias_near_int32_limit_with_varying_output_stays_float(tmp_path):
    """A channel whose sums could pass 2^31 and whose output still depends on
    the input cannot be folded: the node stays on the float path, which
    follows the graph's float arithmetic."""
    channels = 1024   # 1024 weights of 127 move the output by about one step
    path = tmp_path / "varying.onnx"
    onnx.save(_qdq_conv_model(channels, 1, [2 ** 31 - 100] + [0] * (channels - 1),
                              w_value=127, w_scale=3e-7), str(path))
    native = NativeBackend(str(path), threads=1)
    assert "QuantizedConv" not in _plan_ops(native)
    # one value per pixel across every channel, so the sums vary by pixel
    pixels = np.random.default_rng(2).uniform(0.5, 1.9, (1, 1, 6, 6)).astype(np.float32)
    x = np.ascontiguousarray(np.broadcast_to(pixels, (1, channels, 6, 6)))
    expected = _reference_run(path, x)
    assert len(np.unique(expected[0, 0])) > 1
    np.testing.assert_allclose(native.run({"x": x})[0], expected, atol=0.05 * 1.001)


def test_qdq_conv_with_ordinary_bias_keeps_the_integer_kernel(tmp_path):
    path = tmp_path / "bias.onnx"
    onnx.save(_qdq_conv_model(4, 3, [2 ** 20, -5, 7, 0]), str(path))
    native = NativeBackend(str(path), threads=1)
    ops = [node.op for node in next(iter(native._plans.values())).nodes]
    assert "QuantizedConv" in ops


def test_classifier_gemm_runs_on_the_integer_kernel(tmp_path):
    """The seeded CNN's classifier Gemm between its DequantizeLinear and
    QuantizeLinear is an integer 1x1 conv of a 1x1 map (a quarter of the
    float Gemm's weight bytes read per frame), within one output step of
    onnxruntime's QGemm."""
    path = quantize(mobile_cnn(seed=0, size=32), (1, 3, 32, 32), tmp_path)
    native, session = NativeBackend(path, threads=1), onnxruntime_session(path)
    ops = _plan_ops(native)
    assert "Gemm" not in ops and ops.count("QuantizedConv") >= 1
    x = np.random.default_rng(3).standard_normal((1, 3, 32, 32)).astype(np.float32)
    expected = session.run(None, {"image": x})[0]
    assert np.abs(native.run({"image": x})[0] - expected).max() <= output_step(path) * 1.001


def test_qdq_gemm_with_weights_quantised_per_column_stays_float(tmp_path):
    """Weights W (m, k) with one scale per column (DequantizeLinear axis 1)
    are not one scale per output channel: that Gemm keeps the float path and
    follows the graph's arithmetic, even when m == k hides the axis."""
    k = 8
    rng = np.random.default_rng(4)
    inits = [
        numpy_helper.from_array(np.array(1 / 64, np.float32), "x_scale"),
        numpy_helper.from_array(np.array(128, np.uint8), "x_zero"),
        numpy_helper.from_array(rng.integers(-127, 128, (k, k), dtype=np.int8), "w_q"),
        numpy_helper.from_array(rng.uniform(0.01, 0.05, k).astype(np.float32), "w_scale"),
        numpy_helper.from_array(np.array(0.05, np.float32), "y_scale"),
        numpy_helper.from_array(np.array(128, np.uint8), "y_zero")]
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "x_scale", "x_zero"], ["xq"]),
        helper.make_node("DequantizeLinear", ["xq", "x_scale", "x_zero"], ["xd"]),
        helper.make_node("DequantizeLinear", ["w_q", "w_scale"], ["w"], axis=1),
        helper.make_node("Gemm", ["xd", "w"], ["g"], transB=1),
        helper.make_node("QuantizeLinear", ["g", "y_scale", "y_zero"], ["yq"]),
        helper.make_node("DequantizeLinear", ["yq", "y_scale", "y_zero"], ["y"])]
    graph = helper.make_graph(
        nodes, "qdq_gemm", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, k])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, k])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    path = tmp_path / "per_column.onnx"
    onnx.save(model, str(path))
    native = NativeBackend(str(path), threads=1)
    assert "QuantizedConv" not in _plan_ops(native)
    x = rng.uniform(-1.5, 1.5, (1, k)).astype(np.float32)
    np.testing.assert_allclose(native.run({"x": x})[0], _reference_run(path, x), atol=0.05 * 1.001)
