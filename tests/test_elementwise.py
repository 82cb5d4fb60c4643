"""edgeinfer.binary (C, broadcast resolved once) against numpy, under every
SIMD level and thread count (tests/kernel_check.py)."""
import numpy as np
import pytest
from hypothesis import strategies as st

from edgeinfer import kernels, reference
from edgeinfer.kernels.elementwise import broadcast_walk
from kernel_check import Case, KernelCheck


@st.composite
def broadcast_pairs(draw):
    shape = draw(st.lists(st.integers(1, 5), min_size=0, max_size=5))
    # each operand keeps a trailing part of the shape with some axes set to 1
    def operand():
        rank = draw(st.integers(0, len(shape)))
        dims = shape[len(shape) - rank:]
        return [1 if draw(st.booleans()) else d for d in dims]
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    a, b = operand(), operand()
    return (rng.standard_normal(a).astype(np.float32),
            (rng.standard_normal(b) + 3).astype(np.float32))


BINARY = KernelCheck(kernels.binary, reference.binary,
                     compare=lambda ours, expected, case: np.testing.assert_allclose(
                         ours, expected, rtol=1e-6, atol=0))

test_binary_matches_reference = BINARY.property(
    st.tuples(st.sampled_from(kernels.elementwise.BINARY_OPS), broadcast_pairs()).map(
        lambda c: Case((c[0],) + c[1])))


def nan_in_both(ours, _):
    assert np.isnan(ours[:2]).all()


def zero_dimensional(ours, _):
    assert ours.shape == ()


NAN_PAIR = (np.array([np.nan, 1.0, 2.0], np.float32), np.array([0.0, np.nan, 1.0], np.float32))
REGRESSIONS = {
    "max_propagates_nan": Case(("max",) + NAN_PAIR, then=nan_in_both),
    "min_propagates_nan": Case(("min",) + NAN_PAIR, then=nan_in_both),
    # two 0-d operands came back as shape (1,)
    "zero_dimensional_operands": Case(("mul", np.array(2.0, np.float32),
                                       np.array(3.0, np.float32)), then=zero_dimensional),
}
test_regressions = BINARY.regression_test(REGRESSIONS)


def test_broadcast_walk_merges_axes():
    # a per-channel scale of an NCHW tensor walks channels, then one long row
    assert broadcast_walk((1, 16, 32, 32), (1, 16, 32, 32), (1, 16, 1, 1)) == \
        ([16, 1024], [1024, 1], [1, 0])
    assert broadcast_walk((4, 5), (4, 5), (4, 5)) == ([20], [1], [1])


def test_unknown_op_is_refused():
    with pytest.raises(ValueError, match="op must be one of"):
        kernels.binary("pow", np.ones(2), np.ones(2))


def test_zero_dimensional_out_is_filled():
    """A 0-d `out` was refused."""
    a, b = np.array(2.0, np.float32), np.array(3.0, np.float32)
    out = np.empty((), np.float32)
    assert kernels.binary("add", a, b, out=out) is out and out == 5.0


def test_wrong_out_error_names_what_was_given():
    a, b = np.zeros((2, 1), np.float32), np.zeros((1, 3), np.float32)
    with pytest.raises(ValueError, match=r"shape \(2, 3\), got int32 \(2, 3\)"):
        kernels.binary("add", a, b, out=np.empty((2, 3), np.int32))
    read_only = np.empty((2, 3), np.float32)
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match=r"got float32 \(2, 3\), read-only"):
        kernels.binary("add", a, b, out=read_only)
    with pytest.raises(ValueError, match=r"at most 8 axes, got 9"):
        kernels.binary("add", np.zeros((1,) * 9, np.float32), 1.0)
