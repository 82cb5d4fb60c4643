"""edgeinfer.activation and edgeinfer.softmax (C) against their numpy twins,
under every SIMD level and thread count (tests/kernel_check.py)."""
import numpy as np
import pytest
from hypothesis import strategies as st

from edgeinfer import kernels, reference
from kernel_check import Case, KernelCheck

PARAMS = {"relu": (0.0, 0.0), "clip": (-0.5, 6.0), "leaky_relu": (0.1, 0.0),
          "sigmoid": (0.0, 0.0), "hard_sigmoid": (0.2, 0.5), "hard_swish": (0.0, 0.0),
          "tanh": (0.0, 0.0), "silu": (0.0, 0.0)}


ACTIVATION = KernelCheck(kernels.activation, reference.activation,
                         compare=lambda ours, expected, case: np.testing.assert_allclose(
                             ours, expected, rtol=1e-6, atol=1e-6))
SOFTMAX = KernelCheck(kernels.softmax, reference.softmax,
                      compare=lambda ours, expected, case: np.testing.assert_allclose(
                          ours, expected, rtol=1e-5, atol=1e-7))


def activation_case(kind, size, seed):
    x = (np.random.default_rng(seed).standard_normal(size) * 8).astype(np.float32)
    return Case((x, kind) + PARAMS[kind])


# sizes past one 16384-value chunk reach the threaded path
test_activation_matches_reference = ACTIVATION.property(
    st.builds(activation_case, st.sampled_from(sorted(PARAMS)), st.integers(0, 40000),
              st.integers(0, 2**32 - 1)))


@st.composite
def softmax_cases(draw):
    shape = draw(st.lists(st.integers(1, 6), min_size=1, max_size=4))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    seed = draw(st.integers(0, 2**32 - 1))
    x = (np.random.default_rng(seed).standard_normal(shape) * 30).astype(np.float32)
    return Case((x, axis))


test_softmax_matches_reference = SOFTMAX.property(softmax_cases())


def saturates_without_overflow(ours, _):
    assert np.isfinite(ours).all()
    np.testing.assert_allclose(ours, [0, 0, 0.5, 1, 1], rtol=0, atol=1e-30)


def zero_dimensional(ours, _):
    assert ours.shape == ()


REGRESSIONS = {
    "sigmoid_saturates_without_overflow": Case(
        (np.array([-1000, -100, 0, 100, 1000], np.float32), "sigmoid"),
        then=saturates_without_overflow),
    # a 0-d input came back as shape (1,)
    "zero_dimensional_input": Case((np.array(-1.0, np.float32), "relu"), then=zero_dimensional),
}
test_regressions = ACTIVATION.regression_test(REGRESSIONS)


def test_activation_in_place(rng):
    x = rng.standard_normal((3, 5)).astype(np.float32)
    expected = reference.activation(x, "hard_swish")
    assert kernels.activation(x, "hard_swish", out=x) is x
    np.testing.assert_allclose(x, expected, rtol=1e-6, atol=1e-7)


def test_unknown_activation_is_refused():
    with pytest.raises(ValueError, match="kind must be one of"):
        kernels.activation(np.zeros(3, np.float32), "gelu")


def test_wrong_out_error_names_what_was_given():
    x = np.zeros((2, 3), np.float32)
    with pytest.raises(ValueError, match=r"shape \(2, 3\), got float32 \(3, 2\)"):
        kernels.activation(x, "relu", out=np.empty((3, 2), np.float32))
    with pytest.raises(ValueError, match=r"got float64 \(2, 3\)"):
        kernels.softmax(x, out=np.empty((2, 3), np.float64))
    with pytest.raises(ValueError, match=r"got list"):
        kernels.activation(x, "relu", out=[0.0] * 6)
    with pytest.raises(ValueError, match=r"got a 0-d array"):
        kernels.softmax(np.float32(1.0))
