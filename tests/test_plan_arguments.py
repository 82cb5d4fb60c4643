"""The planning layer's argument checks, shared by each C kernel and its numpy
reference: every bad argument is a ValueError naming it, never an OverflowError
from the C boundary, a silently odd output, or an answer that depends on what
was planned before (the plan caches)."""
import numpy as np
import pytest

from edgeinfer import kernels, reference

FRAME = np.random.default_rng(7).integers(0, 256, (24, 32, 3), dtype=np.uint8)


@pytest.mark.parametrize("preprocess", [kernels.preprocess, reference.preprocess])
def test_crop_true_is_refused_after_crop_1_0_was_planned(preprocess):
    whole = preprocess(FRAME, size=16, crop=1.0)  # the plan cache now holds crop=1.0
    assert whole.shape == (1, 3, 16, 16)
    with pytest.raises(ValueError, match="crop"):
        preprocess(FRAME, size=16, crop=True)


@pytest.mark.parametrize("size", ["16", b"16", "16,16", True])
def test_size_given_as_a_string_or_bool_is_refused(size):
    with pytest.raises(ValueError, match="size"):
        kernels.preprocess(FRAME, size=size)


@pytest.mark.parametrize("size", [(float("inf"), 16), (16, float("nan")), (16.5, 16),
                                  (float("-inf"), 16)])
def test_size_that_is_not_a_whole_number_is_a_value_error(size):
    with pytest.raises(ValueError, match="size"):
        kernels.preprocess(FRAME, size=size)


def test_size_as_whole_floats_and_numpy_ints_still_works():
    assert kernels.preprocess(FRAME, size=(16.0, np.int64(12))).shape == (1, 3, 16, 12)


def test_crop_box_with_infinity_is_a_value_error():
    with pytest.raises(ValueError, match="crop"):
        kernels.preprocess(FRAME, size=16, crop=(0, 0, float("inf"), 4))


X = np.random.default_rng(8).standard_normal((1, 2, 9, 9)).astype(np.float32)
W = np.random.default_rng(9).standard_normal((3, 2, 3, 3)).astype(np.float32)


@pytest.mark.parametrize("stride", [2**31, (1, 2**31), 2**63, (2, 1.5), "2"])
@pytest.mark.parametrize("conv2d", [kernels.conv2d, reference.conv2d])
def test_conv2d_stride_beyond_a_c_int_or_not_an_int_is_a_value_error(conv2d, stride):
    with pytest.raises(ValueError, match="stride"):
        conv2d(X, W, stride=stride)


@pytest.mark.parametrize("stride", [2**31, (2**31, 1), 2**63])
@pytest.mark.parametrize("pool", [kernels.max_pool2d, kernels.avg_pool2d,
                                  reference.max_pool2d, reference.avg_pool2d])
def test_pool_stride_beyond_a_c_int_is_a_value_error(pool, stride):
    with pytest.raises(ValueError, match="stride"):
        pool(X, 2, stride=stride)


@pytest.mark.parametrize("pool", [kernels.max_pool2d, kernels.avg_pool2d])
def test_the_largest_c_int_stride_still_runs(pool):
    # one window, at the origin: the stride is never taken
    out = pool(X, 2, stride=2**31 - 1)
    assert out.shape == (1, 2, 1, 1)
    np.testing.assert_allclose(out, reference.max_pool2d(X, 2, stride=2**31 - 1)
                               if pool is kernels.max_pool2d else
                               reference.avg_pool2d(X, 2, stride=2**31 - 1), rtol=1e-6)
