"""EfficientNet-Lite0's costliest integer depthwise layers, one thread: the C
kernel (in the layout its width chooses, and forced into the other) against
its numpy twin and against the float32 depthwise conv2d of the same shape.
96 channels 3x3/2 112x112 -> 56x56 runs as planes; 1152 channels 5x5 on 7x7
runs channels-last, where a 7-pixel row would fill half a vector."""
import numpy as np
import pytest

import edgeinfer
from edgeinfer import kernels, reference

# name: (channels, size, kernel, stride, pads)
LAYERS = {"3x3/2 96x112x112": (96, 112, 3, 2, (0, 0, 1, 1)),
          "5x5 1152x7x7": (1152, 7, 5, 1, (2, 2, 2, 2))}


@pytest.fixture(params=sorted(LAYERS))
def layer(request, rng):
    c, size, k, stride, pads = LAYERS[request.param]
    x = rng.integers(0, 256, (c, size, size), dtype=np.uint8)
    w = rng.integers(-128, 128, (c, k, k), dtype=np.int8)
    bias = rng.integers(-5000, 5000, c, dtype=np.int32)
    multiplier = rng.uniform(1e-4, 3e-3, c).astype(np.float32)
    return request.param, (x, 120, w, bias, multiplier, 128, 0, 255, stride, pads)


@pytest.mark.parametrize("layout", [None, "planes", "channels_last"],
                         ids=["by-width", "planes", "channels-last"])
def bench_qdwconv_c(benchmark, layer, layout):
    name, args = layer
    benchmark.group = f"depthwise {name}"
    edgeinfer._core.qdwconv_force_layout(layout)
    try:
        out = benchmark(kernels.qdwconv, *args)
    finally:
        edgeinfer._core.qdwconv_force_layout(None)
    np.testing.assert_array_equal(out, reference.qdwconv(*args))


def bench_qdwconv_reference(benchmark, layer):
    name, args = layer
    benchmark.group = f"depthwise {name}"
    benchmark(reference.qdwconv, *args)


def bench_float_depthwise_conv2d(benchmark, layer, rng):
    name, (x, _, w, *_, stride, pads) = layer
    benchmark.group = f"depthwise {name}"
    xf = rng.standard_normal((1,) + x.shape).astype(np.float32)
    wf = rng.standard_normal((w.shape[0], 1) + w.shape[1:]).astype(np.float32)
    benchmark(kernels.conv2d, xf, wf, None, stride=stride, padding=pads, groups=w.shape[0])
