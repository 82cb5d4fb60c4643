"""edgeinfer.dense (C) against its numpy twin, under every SIMD level and
thread count (tests/kernel_check.py)."""
import numpy as np
import pytest
from hypothesis import strategies as st

from edgeinfer import kernels, reference
from kernel_check import Case, KernelCheck


def assert_sums_match(ours, expected, case):
    k = case.args[0].shape[1]
    np.testing.assert_allclose(ours, expected, rtol=1e-4, atol=1e-4 * np.sqrt(k))


DENSE = KernelCheck(kernels.dense, reference.dense, compare=assert_sums_match)


def seeded(rows, k, n, with_bias, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, k)).astype(np.float32)
    w = rng.standard_normal((k, n)).astype(np.float32)
    bias = rng.standard_normal(n).astype(np.float32) if with_bias else None
    return Case((x, w, bias))


# one row split between two threads (a column block each, the last one
# shorter) and k * n past the threading threshold are drawn too
test_dense_matches_reference = DENSE.property(
    st.builds(seeded, st.integers(1, 4), st.integers(1, 700), st.integers(1, 600), st.booleans(),
              st.integers(0, 2**32 - 1)))

REGRESSIONS = {
    # k past every vector unit's unrolled chunk, n past two of the former 256-column blocks
    "long_rows_three_column_blocks": seeded(2, 1283, 517, True, 1234),
    # a row of weights past one column block's 4096 outputs: two blocks of
    # 2064 and 2036 columns on one thread
    "row_past_one_column_block": seeded(1, 37, 4100, True, 99),
    # EfficientNet-Lite0's classifier, whole rows of weights on one thread
    "classifier_1280_to_1000": seeded(1, 1280, 1000, True, 5),
}
test_regressions = DENSE.regression_test(REGRESSIONS)


def test_dense_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match="rows x k"):
        kernels.dense(np.ones((1, 3)), np.ones((4, 2)))


def test_wrong_out_error_names_what_was_given():
    x, w = np.zeros((2, 3), np.float32), np.zeros((3, 4), np.float32)
    with pytest.raises(ValueError, match=r"shape \(2, 4\), got float32 \(4, 2\)"):
        kernels.dense(x, w, out=np.empty((4, 2), np.float32))
    with pytest.raises(ValueError, match=r"got float32 \(2, 4\), not C-contiguous"):
        kernels.dense(x, w, out=np.empty((4, 2), np.float32).T)
