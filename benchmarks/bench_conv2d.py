"""Convolution on one thread: the C kernel, onnxruntime running a one-node
Conv model (intra_op_num_threads=1) and the numpy reference; frame filters
also against cv2.filter2D. Group per shape; compare within a group.
Each result carries its GFLOP/s in extra_info (2 flops per multiply-add)."""
import cv2
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import edgeinfer
from edgeinfer import reference

# name: (x shape, w shape, keyword arguments)
CASES = {
    "dense 3x3 32->64 56x56": ((1, 32, 56, 56), (64, 32, 3, 3), dict(padding=1)),
    "pointwise 1x1 64->128 28x28": ((1, 64, 28, 28), (128, 64, 1, 1), {}),
    # EfficientNet-Lite0's most frequent late layer: 49 positions, 48 in
    # whole vectors on AVX-512 and one left over
    "pointwise 1x1 192->1152 7x7": ((1, 192, 7, 7), (1152, 192, 1, 1), {}),
    # and its reduce layer: many input channels, few outputs (all of K in one pass)
    "pointwise 1x1 1152->192 7x7": ((1, 1152, 7, 7), (192, 1152, 1, 1), {}),
    "depthwise 3x3 32 112x112": ((1, 32, 112, 112), (32, 1, 3, 3), dict(padding=1, groups=32)),
    "stem 3x3/2 3->32 224x224": ((1, 3, 224, 224), (32, 3, 3, 3), dict(padding=1, stride=2)),
    "depthwise 3x3/2 64 112x112": ((1, 64, 112, 112), (64, 1, 3, 3),
                                   dict(padding=1, stride=2, groups=64)),
    "1-D k5 16->32 H=1 W=256": ((1, 16, 1, 256), (32, 16, 1, 5), dict(padding=(0, 2))),
    # EfficientNet-Lite0's late layers: small maps with many channels (channel-blocked)
    "depthwise 5x5 1152 7x7": ((1, 1152, 7, 7), (1152, 1, 5, 5), dict(padding=2, groups=1152)),
    "depthwise 3x3/2 240 28x28": ((1, 240, 28, 28), (240, 1, 3, 3),
                                  dict(padding=(0, 0, 1, 1), stride=2, groups=240)),
}
FRAME = (480, 640)


def arrays(name):
    xs, ws, _ = CASES[name]
    rng = np.random.default_rng(0)
    return (rng.standard_normal(xs).astype(np.float32), rng.standard_normal(ws).astype(np.float32),
            rng.standard_normal(ws[0]).astype(np.float32))


def flops(name):
    xs, ws, kwargs = CASES[name]
    out = edgeinfer.conv2d(np.zeros(xs, np.float32), np.zeros(ws, np.float32), **kwargs)
    return 2.0 * out.size * ws[1] * ws[2] * ws[3]


def record(benchmark, flop):
    benchmark.extra_info["gflop"] = flop / 1e9
    if benchmark.stats is not None:
        benchmark.extra_info["gflops_per_s"] = flop / 1e9 / benchmark.stats.stats.min


def onnxruntime_session(x, w, b, stride=1, padding=0, groups=1):
    import onnxruntime as ort

    stride = (stride, stride) if isinstance(stride, int) else stride
    pads = (padding,) * 4 if isinstance(padding, int) else tuple(padding) * (4 // len(padding))
    node = helper.make_node("Conv", ["x", "w", "b"], ["y"], strides=list(stride),
                            pads=list(pads), group=groups, kernel_shape=list(w.shape[2:]))
    graph = helper.make_graph(
        [node], "conv", [helper.make_tensor_value_info("x", TensorProto.FLOAT, x.shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        initializer=[numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return ort.InferenceSession(model.SerializeToString(), options,
                                providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("name", CASES)
def bench_edgeinfer(benchmark, name):
    """A 1x1 case as the native backend runs it: its weights packed once
    beforehand (as they are at a model's load, and as onnxruntime packs them
    when it makes its session)."""
    from edgeinfer.core.loader import core

    x, w, b = arrays(name)
    kwargs = CASES[name][2]
    out = edgeinfer.conv2d(x, w, b, **kwargs)
    benchmark.group = f"conv2d {name}"
    if w.shape[2:] == (1, 1) and not kwargs:
        benchmark(core.conv2d, x, w, b, out, (1, 1), (1, 1), (0, 0, 0, 0), 1, None, None,
                  core.conv2d_pack_pointwise(w))
    else:
        benchmark(edgeinfer.conv2d, x, w, b, out=out, **kwargs)
    record(benchmark, flops(name))
    np.testing.assert_allclose(out, reference.conv2d(x, w, b, **kwargs), rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("name", CASES)
def bench_onnxruntime(benchmark, name):
    x, w, b = arrays(name)
    session = onnxruntime_session(x, w, b, **CASES[name][2])
    benchmark.group = f"conv2d {name}"
    benchmark(session.run, None, {"x": x})
    record(benchmark, flops(name))


@pytest.mark.parametrize("name", CASES)
def bench_numpy_reference(benchmark, name):
    x, w, b = arrays(name)
    benchmark.group = f"conv2d {name}"
    benchmark.pedantic(reference.conv2d, (x, w, b), CASES[name][2], rounds=3, iterations=1)
    record(benchmark, flops(name))


def frame():
    return np.random.default_rng(0).integers(0, 256, FRAME, dtype=np.uint8)


FRAME_FLOP = 2.0 * 9 * FRAME[0] * FRAME[1]


def bench_filter2d_edgeinfer(benchmark):
    image = frame()
    benchmark.group = "filter2d gaussian3 480x640 uint8"
    out = benchmark(edgeinfer.filter2d, image, "gaussian3")
    record(benchmark, FRAME_FLOP)
    expected = cv2.filter2D(image, -1, edgeinfer.FILTER_KERNELS["gaussian3"])
    assert np.abs(out.astype(int) - expected).max() <= 1


def bench_filter2d_opencv(benchmark):
    image = frame()
    benchmark.group = "filter2d gaussian3 480x640 uint8"
    benchmark(cv2.filter2D, image, -1, edgeinfer.FILTER_KERNELS["gaussian3"])
    record(benchmark, FRAME_FLOP)


def bench_filter2d_numpy_reference(benchmark):
    image = frame()
    benchmark.group = "filter2d gaussian3 480x640 uint8"
    benchmark.pedantic(reference.filter2d, (image, "gaussian3"), rounds=3, iterations=1)
    record(benchmark, FRAME_FLOP)
