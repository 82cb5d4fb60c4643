"""edgeinfer.dense (C) against its numpy twin."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from edgeinfer import kernels, reference


@given(st.integers(1, 4), st.integers(1, 700), st.integers(1, 600), st.booleans(),
       st.integers(0, 2**32 - 1))
def test_dense_matches_reference(rows, k, n, with_bias, seed):
    # n past one 256-column block and k * n past the threading threshold are drawn too
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, k)).astype(np.float32)
    w = rng.standard_normal((k, n)).astype(np.float32)
    bias = rng.standard_normal(n).astype(np.float32) if with_bias else None
    np.testing.assert_allclose(kernels.dense(x, w, bias), reference.dense(x, w, bias),
                               rtol=1e-4, atol=1e-4 * np.sqrt(k))


def test_dense_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match="rows x k"):
        kernels.dense(np.ones((1, 3)), np.ones((4, 2)))


@pytest.mark.parametrize("level", ["portable", "sse2", "avx2", "avx512"])
def test_dense_every_vector_unit_matches_reference(level, rng):
    from edgeinfer import _core

    try:
        _core.simd_force(level)
    except ValueError:
        pytest.skip(f"this CPU or build has no {level}")
    try:
        x = rng.standard_normal((2, 1283)).astype(np.float32)
        w = rng.standard_normal((1283, 517)).astype(np.float32)
        bias = rng.standard_normal(517).astype(np.float32)
        np.testing.assert_allclose(kernels.dense(x, w, bias), reference.dense(x, w, bias),
                                   rtol=1e-4, atol=4e-3)
    finally:
        _core.simd_force(None)


def test_wrong_out_error_names_what_was_given():
    x, w = np.zeros((2, 3), np.float32), np.zeros((3, 4), np.float32)
    with pytest.raises(ValueError, match=r"shape \(2, 4\), got float32 \(4, 2\)"):
        kernels.dense(x, w, out=np.empty((4, 2), np.float32))
    with pytest.raises(ValueError, match=r"got float32 \(2, 4\), not C-contiguous"):
        kernels.dense(x, w, out=np.empty((4, 2), np.float32).T)
