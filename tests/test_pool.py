"""edgeinfer.max_pool2d / avg_pool2d / global_avg_pool (C) against their
numpy twins over drawn shapes and every attribute."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from edgeinfer import kernels, reference


@st.composite
def pool_cases(draw, max_size=12):
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    span = [(k - 1) * d + 1 for k, d in zip(kernel, dilation)]
    # ONNX asks pads to be smaller than the kernel; keep them inside the span
    pads = tuple(draw(st.integers(0, span[i % 2] - 1)) for i in range(4))
    height = draw(st.integers(max(1, span[0] - pads[0] - pads[2]), max_size))
    width = draw(st.integers(max(1, span[1] - pads[1] - pads[3]), max_size))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), height, width)
    x = np.random.default_rng(draw(st.integers(0, 2**32 - 1))).standard_normal(shape)
    return x.astype(np.float32), dict(kernel=kernel, stride=stride, padding=pads,
                                      dilation=dilation, ceil_mode=draw(st.booleans()))


@given(pool_cases())
def test_max_pool_matches_reference(case):
    x, args = case
    np.testing.assert_array_equal(kernels.max_pool2d(x, **args), reference.max_pool2d(x, **args))


@given(pool_cases(), st.booleans())
def test_avg_pool_matches_reference(case, include_pad):
    x, args = case
    ours = kernels.avg_pool2d(x, count_include_pad=include_pad, **args)
    ref = reference.avg_pool2d(x, count_include_pad=include_pad, **args)
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-6)


@given(pool_cases(max_size=40), st.floats(0.0, 0.3), st.integers(0, 2**32 - 1))
def test_max_pool_nan_at_any_tap_wins(case, share, seed):
    """A NaN anywhere in a window, on maps wider than a vector, next to
    padding or in ceil mode's last window, is that window's output."""
    x, args = case
    x[np.random.default_rng(seed).random(x.shape) < share] = np.nan
    np.testing.assert_array_equal(kernels.max_pool2d(x, **args), reference.max_pool2d(x, **args))


def test_max_pool_propagates_nan():
    x = np.zeros((1, 1, 4, 4), np.float32)
    x[0, 0, 1, 1] = np.nan
    out = kernels.max_pool2d(x, 2, stride=2)
    assert np.isnan(out[0, 0, 0, 0]) and not np.isnan(out[0, 0, 1, 1])


@pytest.mark.parametrize("shape", [(1, 5, 7, 7), (2, 3, 1, 1), (1, 1, 3, 300), (1, 4, 10)])
def test_global_avg_pool_matches_reference(shape, rng):
    x = rng.standard_normal(shape).astype(np.float32)
    np.testing.assert_allclose(kernels.global_avg_pool(x), reference.global_avg_pool(x),
                               rtol=1e-5, atol=1e-6)


def test_out_of_wrong_shape_is_refused():
    x = np.zeros((1, 1, 4, 4), np.float32)
    with pytest.raises(ValueError, match="out must be"):
        kernels.max_pool2d(x, 2, out=np.empty((1, 1, 2, 2), np.float32))
