"""The uint8 steps between EfficientNet-Lite0 int8's convolutions, one thread:
QuantizeLinear of the stem's 32x112x112 float output, the residual Add of two
24x56x56 uint8 maps and a DequantizeLinear of one, each in C against its numpy
twin."""
import numpy as np
import pytest

from edgeinfer import kernels, reference


@pytest.fixture
def stem_output(rng):
    return rng.standard_normal((1, 32, 112, 112)).astype(np.float32) * 3


@pytest.fixture
def residual(rng):
    a, b = (rng.integers(0, 256, (1, 24, 56, 56), dtype=np.uint8) for _ in range(2))
    return a, 118, np.float32(0.61), b, 131, np.float32(0.83), 125


@pytest.mark.parametrize("twin", [kernels, reference], ids=["c", "reference"])
def bench_quantize_u8(benchmark, stem_output, twin):
    benchmark.group = "QuantizeLinear 1x32x112x112"
    out = benchmark(twin.quantize_u8, stem_output, 0.047, 3)
    np.testing.assert_array_equal(out, reference.quantize_u8(stem_output, 0.047, 3))


@pytest.mark.parametrize("twin", [kernels, reference], ids=["c", "reference"])
def bench_qadd_u8(benchmark, residual, twin):
    benchmark.group = "QuantizedAdd 1x24x56x56"
    out = benchmark(twin.qadd_u8, *residual)
    np.testing.assert_array_equal(out, reference.qadd_u8(*residual))


@pytest.mark.parametrize("twin", [kernels, reference], ids=["c", "reference"])
def bench_dequantize_u8(benchmark, residual, twin):
    benchmark.group = "DequantizeLinear 1x24x56x56"
    a = residual[0]
    out = benchmark(twin.dequantize_u8, a, 0.021, 118)
    np.testing.assert_array_equal(out, reference.dequantize_u8(a, 0.021, 118))
