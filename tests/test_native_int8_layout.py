"""The int8 region channels-last (native/quantized_layout.py): a QDQ model's
QuantizedConv and QuantizedAdd steps read and write (N, H, W, C) tensors
between one ChannelsLast step where the region is entered and one where it
is left. Both layouts compute every value exactly alike (tests/test_qconv.py
and test_qdwconv.py hold each kernel to the same numpy twin), so a model's
outputs are the planes plan's bit for bit."""
import numpy as np
import onnx
import pytest

pytest.importorskip("onnxruntime")

from edgeinfer.native import NativeBackend, quantized_layout  # noqa: E402
from test_native_int8 import (_plan_ops, _qdq_conv_model, onnxruntime_session,  # noqa: E402
                              output_step, quantize)  # (and tools/ on the path)
from small_cnns import Builder, image_input, mobile_cnn, output  # noqa: E402
from simd_levels import available_levels, forced_simd  # noqa: E402


def inverted_residual_cnn(seed=0, size=24, batch=1):
    """EfficientNet-Lite's body in small: a float stem, then inverted residual
    blocks (1x1 expand + ReLU6, depthwise 3x3 or 5x5 + ReLU6 at strides 1 and
    2, 1x1 project, a residual Add where the shape allows), pooled into a Gemm:
    once quantised, one int8 region from the stem to the pooling."""
    b = Builder(seed)

    def relu6(x):
        return b.node("Clip", [x, b.const(np.float32(0)), b.const(np.float32(6))])

    x = relu6(b.conv("image", 3, 16, 3, 2, [1, 1, 1, 1]))
    channels = 16
    for out, kernel, stride in ((16, 3, 1), (24, 5, 2), (24, 3, 1), (40, 5, 1)):
        y = relu6(b.conv(x, channels, channels * 4, 1))
        y = relu6(b.conv(y, channels * 4, channels * 4, kernel, stride, [kernel // 2] * 4,
                         groups=channels * 4))
        y = b.conv(y, channels * 4, out, 1)
        x = b.node("Add", [x, y]) if (out, stride) == (channels, 1) else y
        channels = out
    x = b.node("Flatten", [b.node("GlobalAveragePool", [x])])
    x = b.node("Gemm", [x, b.weight(10, channels), b.const(np.zeros(10, np.float32))], transB=1)
    height, width = (size, size) if np.isscalar(size) else size
    return b.model([image_input((batch, 3, height, width))], [output(x)])


@pytest.fixture
def no_plan_cache(monkeypatch):
    # a plan read back from the cache would keep the layout it was made with
    monkeypatch.setenv("EDGEINFER_PLAN_CACHE", "0")


def _backend(path, channels_last, monkeypatch, threads=1):
    monkeypatch.setattr(quantized_layout, "ENABLED", channels_last)
    return NativeBackend(path, threads=threads)


@pytest.mark.parametrize("batch", [1, 2])
@pytest.mark.parametrize("threads", [1, 2])
def test_int8_region_runs_channels_last_with_the_planes_plans_outputs(
        tmp_path, monkeypatch, no_plan_cache, threads, batch):
    shape = (batch, 3, 24, 24)
    path = quantize(inverted_residual_cnn(batch=batch), shape, tmp_path)
    region = _backend(path, True, monkeypatch, threads)
    planes = _backend(path, False, monkeypatch, threads)
    nodes = next(iter(region._plans.values())).nodes
    convs = [node for node in nodes if node.op == "QuantizedConv"]
    assert "ChannelsLast" in _plan_ops(region) and "ChannelsLast" not in _plan_ops(planes)
    assert any(node.attr("channels_last") and node.attr("pads") is not None for node in convs)
    assert any(node.attr("channels_last") and node.attr("pads") is None for node in convs)
    # one region, entered by the QuantizeLinear after the stem writing pixels
    # itself (no transpose after it) and left by one ChannelsLast
    assert _plan_ops(region).count("ChannelsLast") == 1
    assert [node.attr("channels_last", False) for node in nodes
            if node.op == "QuantizeLinear"].count(True) == 1
    rng = np.random.default_rng(3)
    for _ in range(3):
        x = rng.standard_normal(shape).astype(np.float32)
        np.testing.assert_array_equal(region.run({"image": x})[0], planes.run({"image": x})[0])


def test_int8_region_matches_onnxruntime_within_one_step(tmp_path, monkeypatch, no_plan_cache):
    path = quantize(inverted_residual_cnn(), (1, 3, 24, 24), tmp_path)
    native = _backend(path, True, monkeypatch)
    session, step = onnxruntime_session(path), output_step(path)
    rng = np.random.default_rng(5)
    for _ in range(3):
        x = rng.standard_normal((1, 3, 24, 24)).astype(np.float32)
        expected = session.run(None, {"image": x})[0]
        assert np.abs(native.run({"image": x})[0] - expected).max() <= step * 1.001


@pytest.mark.parametrize("batch", [1, 2])
@pytest.mark.parametrize("size", [(24, 1), (1, 24)])
def test_channels_last_of_a_map_one_pixel_wide_or_high_moves_its_bytes(
        tmp_path, monkeypatch, no_plan_cache, size, batch):
    """ChannelsLast took a map with W == 1 (entering) or H == 1 (leaving) for
    one whose bytes need no transpose, and passed a view: wrong outputs."""
    shape = (batch, 3, *size)
    path = quantize(inverted_residual_cnn(size=size, batch=batch), shape, tmp_path)
    region = _backend(path, True, monkeypatch)
    planes = _backend(path, False, monkeypatch)
    assert "ChannelsLast" in _plan_ops(region)
    x = np.random.default_rng(4).standard_normal(shape).astype(np.float32)
    np.testing.assert_array_equal(region.run({"image": x})[0], planes.run({"image": x})[0])


def test_seeded_cnns_small_parts_stay_planes_but_its_1x1_maps_run_channels_last(
        tmp_path, monkeypatch, no_plan_cache):
    """mobile_cnn's inverted residual is three steps with four transposes
    around it: it stays planes; its squeeze-excitation 1x1 convs on a 1x1
    map need no transpose (the same bytes either way), so they run
    channels-last behind ChannelsLast views."""
    path = quantize(mobile_cnn(seed=0, size=32), (1, 3, 32, 32), tmp_path)
    native = _backend(path, True, monkeypatch)
    nodes = next(iter(native._plans.values())).nodes
    convs = [node for node in nodes if node.op == "QuantizedConv"]
    assert any(node.attr("pads") is not None and not node.attr("channels_last")
               for node in convs)
    assert any(node.attr("channels_last") for node in convs)
    x = np.random.default_rng(6).standard_normal((1, 3, 32, 32)).astype(np.float32)
    np.testing.assert_array_equal(native.run({"image": x})[0],
                                  _backend(path, False, monkeypatch).run({"image": x})[0])


def test_lone_quantized_conv_keeps_the_planes_layout(tmp_path, monkeypatch, no_plan_cache):
    """One integer conv between float steps would pay a transpose in and one
    out for a single step: the pass leaves such a region in planes."""
    path = tmp_path / "one_conv.onnx"
    onnx.save(_qdq_conv_model(8, 3, list(range(8))), str(path))
    native = _backend(str(path), True, monkeypatch)
    assert "QuantizedConv" in _plan_ops(native) and "ChannelsLast" not in _plan_ops(native)


def test_int8_region_plan_from_the_cache_runs_channels_last(tmp_path, monkeypatch):
    monkeypatch.setenv("EDGEINFER_CACHE_DIR", str(tmp_path / "cache"))
    path = quantize(inverted_residual_cnn(), (1, 3, 24, 24), tmp_path)
    x = np.random.default_rng(4).standard_normal((1, 3, 24, 24)).astype(np.float32)
    expected = NativeBackend(path, threads=1).run({"image": x})[0]
    again = NativeBackend(path, threads=1)
    assert "ChannelsLast" in _plan_ops(again)
    np.testing.assert_array_equal(again.run({"image": x})[0], expected)


@pytest.mark.parametrize("level", ["portable", "sse2", "neon"])
def test_int8_region_stays_planes_where_the_channels_last_1x1_is_plain_c(
        tmp_path, monkeypatch, no_plan_cache, level):
    """At SSE2 and NEON the channels-last 1x1 is portable C, slower than the
    planes kernels: plans made there keep the planes layout, the classifier
    Gemm included, and give the default level's outputs bit for bit."""
    if level not in available_levels():
        pytest.skip(f"{level} is not available on this CPU")
    path = quantize(inverted_residual_cnn(), (1, 3, 24, 24), tmp_path)
    x = np.random.default_rng(6).standard_normal((1, 3, 24, 24)).astype(np.float32)
    expected = _backend(path, True, monkeypatch).run({"image": x})[0]
    with forced_simd(level):
        native = _backend(path, True, monkeypatch)
        got = native.run({"image": x})[0]
    assert "ChannelsLast" not in _plan_ops(native)
    assert not any(node.attr("channels_last") for node in next(iter(native._plans.values())).nodes
                   if node.op == "QuantizedConv")
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("scale, zero", [
    (np.array([0.05, 0.1, 0.02], np.float32), np.array([128, 120, 3], np.uint8)),   # per channel
    (np.float32(0.04), np.int8(-5)),                                               # int8 values
])
def test_channels_last_quantize_numpy_path_writes_pixels_like_the_c_path(scale, zero):
    """A QuantizeLinear entering the region channels-last that the C kernel
    does not run (per-channel scales, int8 values) goes through numpy; its
    (N, H, W, C) output is the planes' quantisation moved channel-last."""
    from edgeinfer.native.graph import Node
    from edgeinfer.native.kernel import Operand
    from edgeinfer.native.ops.quant import make_quantize

    x = np.random.default_rng(0).standard_normal((2, 3, 5, 4)).astype(np.float32) * 4
    node = Node("QuantizeLinear", ["x", "s", "z"], ["y"], {"channels_last": 1, "axis": 1})
    operands = [Operand(x.shape, np.dtype(np.float32)),
                Operand(np.shape(scale), np.dtype(np.float32), np.asarray(scale)),
                Operand(np.shape(zero), np.asarray(zero).dtype, np.asarray(zero))]
    kernel = make_quantize(node, operands, 21)
    assert kernel.shapes == [(2, 5, 4, 3)]
    out = np.empty(kernel.shapes[0], kernel.dtypes[0])
    kernel.bind([x], [out])()
    per_channel = (1, -1, 1, 1) if np.ndim(scale) else ()
    info = np.iinfo(np.asarray(zero).dtype)
    planes = np.clip(np.rint(x / np.reshape(scale, per_channel))
                     + np.reshape(zero, per_channel).astype(np.float32), info.min, info.max)
    np.testing.assert_array_equal(out, planes.transpose(0, 2, 3, 1).astype(out.dtype))
