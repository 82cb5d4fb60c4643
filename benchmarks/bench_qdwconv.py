"""EfficientNet-Lite0's costliest integer depthwise layer (96 channels,
3x3, stride 2, 112x112 -> 56x56), one thread: the C kernel against its
numpy twin and against the float32 depthwise conv2d of the same shape."""
import numpy as np
import pytest

from edgeinfer import kernels, reference

PADS = (0, 0, 1, 1)


@pytest.fixture
def layer(rng):
    x = rng.integers(0, 256, (96, 112, 112), dtype=np.uint8)
    w = rng.integers(-128, 128, (96, 3, 3), dtype=np.int8)
    bias = rng.integers(-5000, 5000, 96, dtype=np.int32)
    multiplier = rng.uniform(1e-4, 3e-3, 96).astype(np.float32)
    return x, 120, w, bias, multiplier, 128, 0, 255, 2, PADS


def bench_qdwconv_c(benchmark, layer):
    benchmark.group = "depthwise 3x3/2 96x112x112"
    out = np.empty((96, 56, 56), np.uint8)
    benchmark(kernels.qdwconv, *layer, out=out)
    np.testing.assert_array_equal(out, reference.qdwconv(*layer))


def bench_qdwconv_reference(benchmark, layer):
    benchmark.group = "depthwise 3x3/2 96x112x112"
    benchmark(reference.qdwconv, *layer)


def bench_float_depthwise_conv2d(benchmark, layer, rng):
    benchmark.group = "depthwise 3x3/2 96x112x112"
    x = rng.standard_normal((1, 96, 112, 112)).astype(np.float32)
    w = rng.standard_normal((96, 1, 3, 3)).astype(np.float32)
    benchmark(kernels.conv2d, x, w, None, stride=2, padding=PADS, groups=96)
