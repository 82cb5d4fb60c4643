"""Pooling on a MobileNet-sized feature map, one thread: the C kernel against
its numpy twin and against numpy's fastest plain form (a max over strided
views). Group per operation; compare within a group."""
import numpy as np
import pytest

from edgeinfer import kernels, reference

SHAPE = (1, 32, 56, 56)


def numpy_max_pool_3x3_s2(x):
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
    h, w = x.shape[2] // 2, x.shape[3] // 2
    views = [padded[:, :, i:i + 2 * h:2, j:j + 2 * w:2] for i in range(3) for j in range(3)]
    return np.max(views, axis=0)


@pytest.fixture
def feature_map(rng):
    return rng.standard_normal(SHAPE).astype(np.float32)


def bench_max_pool_c(benchmark, feature_map):
    benchmark.group = "max_pool 3x3/2"
    out = benchmark(kernels.max_pool2d, feature_map, 3, stride=2, padding=1)
    np.testing.assert_array_equal(out, numpy_max_pool_3x3_s2(feature_map))


def bench_max_pool_numpy_views(benchmark, feature_map):
    benchmark.group = "max_pool 3x3/2"
    benchmark(numpy_max_pool_3x3_s2, feature_map)


def bench_max_pool_reference(benchmark, feature_map):
    benchmark.group = "max_pool 3x3/2"
    benchmark.pedantic(reference.max_pool2d, (feature_map, 3), dict(stride=2, padding=1),
                       rounds=3)


def bench_avg_pool_c(benchmark, feature_map):
    benchmark.group = "avg_pool 2x2/2"
    benchmark(kernels.avg_pool2d, feature_map, 2, stride=2)


def bench_global_avg_pool_c(benchmark, feature_map):
    benchmark.group = "global_avg_pool"
    benchmark(kernels.global_avg_pool, feature_map)


def bench_global_avg_pool_numpy(benchmark, feature_map):
    benchmark.group = "global_avg_pool"
    benchmark(np.mean, feature_map, axis=(2, 3), keepdims=True)
