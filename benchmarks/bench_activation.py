"""Activations over a MobileNet-sized feature map, one thread: the C kernels
against their numpy twins and numpy's own one-liners."""
import numpy as np
import pytest

from edgeinfer import kernels, reference

SHAPE = (1, 96, 56, 56)


@pytest.fixture
def feature_map(rng):
    return rng.standard_normal(SHAPE).astype(np.float32)


@pytest.mark.parametrize("kind", ["relu", "sigmoid", "hard_swish"])
def bench_activation_c(benchmark, feature_map, kind):
    benchmark.group = f"activation {kind}"
    out = np.empty_like(feature_map)
    benchmark(kernels.activation, feature_map, kind, out=out)


@pytest.mark.parametrize("kind", ["relu", "sigmoid", "hard_swish"])
def bench_activation_reference(benchmark, feature_map, kind):
    benchmark.group = f"activation {kind}"
    benchmark(reference.activation, feature_map, kind)


def bench_relu_numpy(benchmark, feature_map):
    benchmark.group = "activation relu"
    out = np.empty_like(feature_map)
    benchmark(np.maximum, feature_map, 0, out=out)


def bench_softmax_c(benchmark, rng):
    benchmark.group = "softmax 1000"
    x = rng.standard_normal((1, 1000)).astype(np.float32)
    benchmark(kernels.softmax, x)


def bench_softmax_reference(benchmark, rng):
    benchmark.group = "softmax 1000"
    x = rng.standard_normal((1, 1000)).astype(np.float32)
    benchmark(reference.softmax, x)
