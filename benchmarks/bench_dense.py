"""A classifier head (1280 features -> 1000 classes, batch 1), one thread:
the C dense kernel against its numpy twin and numpy's BLAS matmul."""
import numpy as np
import pytest

from edgeinfer import kernels, reference


@pytest.fixture
def head(rng):
    return (rng.standard_normal((1, 1280)).astype(np.float32),
            rng.standard_normal((1280, 1000)).astype(np.float32) * 0.03,
            rng.standard_normal(1000).astype(np.float32))


def bench_dense_c(benchmark, head):
    x, w, b = head
    benchmark.group = "dense 1280->1000"
    out = np.empty((1, 1000), np.float32)
    benchmark(kernels.dense, x, w, b, out=out)
    np.testing.assert_allclose(out, reference.dense(x, w, b), rtol=1e-4, atol=1e-3)


def bench_dense_reference(benchmark, head):
    x, w, b = head
    benchmark.group = "dense 1280->1000"
    benchmark(reference.dense, x, w, b)


def bench_dense_numpy_matmul(benchmark, head):
    x, w, b = head
    benchmark.group = "dense 1280->1000"
    out = np.empty((1, 1000), np.float32)

    def matmul_add():
        np.matmul(x, w, out=out)
        np.add(out, b, out=out)
    benchmark(matmul_add)
