"""edgeinfer.max_pool2d / avg_pool2d / global_avg_pool (C) against their
numpy twins over drawn shapes and every attribute, under every SIMD level and
thread count (tests/kernel_check.py)."""
import numpy as np
import pytest
from hypothesis import strategies as st

from edgeinfer import kernels, reference
from kernel_check import Case, KernelCheck


@st.composite
def pool_cases(draw, max_size=12):
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    span = [(k - 1) * d + 1 for k, d in zip(kernel, dilation)]
    mode = draw(st.sampled_from(["explicit", "explicit", "valid", "same_upper", "same_lower"]))
    if mode == "explicit":
        # ONNX asks pads to be smaller than the kernel; keep them inside the span
        padding = tuple(draw(st.integers(0, span[i % 2] - 1)) for i in range(4))
    else:
        padding = mode
    pads = (0,) * 4 if mode == "valid" else padding if mode == "explicit" else None
    least = [1, 1] if pads is None else [max(1, span[i] - pads[i] - pads[i + 2]) for i in (0, 1)]
    height = draw(st.integers(least[0], max(least[0], max_size)))
    width = draw(st.integers(least[1], max(least[1], max_size)))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), height, width)
    x = np.random.default_rng(draw(st.integers(0, 2**32 - 1))).standard_normal(shape)
    return x.astype(np.float32), dict(kernel=kernel, stride=stride, padding=padding,
                                      dilation=dilation, ceil_mode=draw(st.booleans()))


def assert_averages_match(ours, expected, case):
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-6)


MAX_POOL = KernelCheck(kernels.max_pool2d, reference.max_pool2d,
                       compare=lambda ours, expected, case: np.testing.assert_array_equal(ours,
                                                                                          expected))
AVG_POOL = KernelCheck(kernels.avg_pool2d, reference.avg_pool2d, compare=assert_averages_match)
GLOBAL_AVG_POOL = KernelCheck(kernels.global_avg_pool, reference.global_avg_pool,
                              compare=assert_averages_match)

test_max_pool_matches_reference = MAX_POOL.property(
    pool_cases().map(lambda case: Case((case[0],), case[1])))
test_avg_pool_matches_reference = AVG_POOL.property(
    st.tuples(pool_cases(), st.booleans()).map(
        lambda c: Case((c[0][0],), dict(c[0][1], count_include_pad=c[1]))))


# max pooling runs in whole vectors of up to 16 floats, the last overlapping
# the one before: maps up to 40 wide reach every width and its tail on every level
test_max_pool_matches_reference_on_wide_maps = MAX_POOL.property(
    pool_cases(max_size=40).map(lambda case: Case((case[0],), case[1])), max_examples=40)


def with_nans(case, share, seed):
    x, args = case
    x[np.random.default_rng(seed).random(x.shape) < share] = np.nan
    return Case((x,), args)


# A NaN anywhere in a window, on maps wider than a vector, next to padding or
# in ceil mode's last window, is that window's output, on every level.
test_max_pool_nan_at_any_tap_wins = MAX_POOL.property(
    st.builds(with_nans, pool_cases(max_size=40), st.floats(0.0, 0.3),
              st.integers(0, 2**32 - 1)), max_examples=40)


def seeded(shape, seed=1234):
    return (np.random.default_rng(seed).standard_normal(shape).astype(np.float32),)


def nan_at_one_one():
    x = np.zeros((1, 1, 4, 4), np.float32)
    x[0, 0, 1, 1] = np.nan
    return (x,)


def only_first_window_nan(ours, _):
    assert np.isnan(ours[0, 0, 0, 0]) and not np.isnan(ours[0, 0, 1, 1])


MAX_POOL_REGRESSIONS = {
    "max_pool_propagates_nan": Case(nan_at_one_one(), dict(kernel=2, stride=2),
                                    then=only_first_window_nan),
    # mini-Xception's pools: 3x3/2 SAME on 60x60 down to 8x8 maps
    "mini_xception_3x3_stride2_60x60": Case(seeded((1, 16, 60, 60)),
                                           dict(kernel=3, stride=2, padding="same_upper")),
    "mini_xception_3x3_stride2_8x8": Case(seeded((1, 128, 8, 8)),
                                         dict(kernel=3, stride=2, padding="same_upper")),
    # windows past the right and bottom pads, of which some hold no input
    "ceil_mode_windows_past_the_pads": Case(seeded((1, 2, 5, 21)),
                                            dict(kernel=2, stride=3, padding=(0, 0, 1, 1),
                                                 ceil_mode=True)),
}
test_max_pool_regressions = MAX_POOL.regression_test(MAX_POOL_REGRESSIONS)

AVG_POOL_REGRESSIONS = {
    # the small CNN's pool: 2x2 at stride 1, padded at the end, pads not counted
    "small_cnn_2x2_stride1_end_pads_not_counted": Case(
        seeded((1, 24, 24, 24)), dict(kernel=2, stride=1, padding=(0, 0, 1, 1),
                                      count_include_pad=False)),
    # windows wholly in the pads past the input (ceil mode) average no tap: NaN
    "ceil_mode_window_without_taps_is_nan": Case(
        seeded((1, 2, 5, 21)), dict(kernel=2, stride=3, padding=(0, 0, 1, 1), ceil_mode=True,
                                    count_include_pad=False)),
}
test_avg_pool_regressions = AVG_POOL.regression_test(AVG_POOL_REGRESSIONS)

GLOBAL_AVG_POOL_REGRESSIONS = {
    "planes_7x7": Case(seeded((1, 5, 7, 7))),
    "planes_of_one_pixel": Case(seeded((2, 3, 1, 1))),
    "one_long_row": Case(seeded((1, 1, 3, 300))),
    "one_spatial_axis": Case(seeded((1, 4, 10))),
}
test_global_avg_pool_regressions = GLOBAL_AVG_POOL.regression_test(GLOBAL_AVG_POOL_REGRESSIONS)

# planes go eight at a time and the rest one by one: counts on both sides of
# a multiple of eight, planes of any size (a vector of four and the values past it)
test_global_avg_pool_matches_reference = GLOBAL_AVG_POOL.property(
    st.builds(lambda batch, planes, h, w, seed: Case(seeded((batch, planes, h, w), seed)),
              st.integers(1, 2), st.integers(1, 20), st.integers(1, 9), st.integers(1, 9),
              st.integers(0, 2**32 - 1)), max_examples=40)


def test_global_avg_pool_plane_mean_same_in_a_group_of_eight_or_alone():
    """A plane's mean is summed in the same order whether it goes with seven
    others or alone (the planes after the last group of eight)."""
    x = seeded((1, 19, 7, 7))[0]
    whole = kernels.global_avg_pool(x)
    for plane in range(19):
        alone = kernels.global_avg_pool(np.ascontiguousarray(x[:, plane:plane + 1]))
        assert alone[0, 0, 0, 0] == whole[0, plane, 0, 0]


def test_out_of_wrong_shape_is_refused():
    x = np.zeros((1, 1, 4, 4), np.float32)
    with pytest.raises(ValueError, match="out must be"):
        kernels.max_pool2d(x, 2, out=np.empty((1, 1, 2, 2), np.float32))


def test_global_avg_pool_checks_out():
    """It used to write through whatever `out` it was given, unchecked."""
    x = np.arange(2 * 3 * 4 * 4, dtype=np.float32).reshape(2, 3, 4, 4)
    with pytest.raises(ValueError, match=r"shape \(2, 3, 1, 1\), got float32 \(2, 3\)"):
        kernels.global_avg_pool(x, out=np.empty((2, 3), np.float32))
    with pytest.raises(ValueError, match=r"got float64 \(2, 3, 1, 1\)"):
        kernels.global_avg_pool(x, out=np.empty((2, 3, 1, 1), np.float64))
    out = np.empty((2, 3, 1, 1), np.float32)
    assert kernels.global_avg_pool(x, out=out) is out
    np.testing.assert_allclose(out, reference.global_avg_pool(x), rtol=1e-6)


def test_wrong_out_error_names_what_was_given():
    x = np.zeros((1, 2, 4, 4), np.float32)
    with pytest.raises(ValueError, match=r"shape \(1, 2, 2, 2\), got float32 \(1, 2, 4, 4\)"):
        kernels.max_pool2d(x, 2, stride=2, out=np.empty((1, 2, 4, 4), np.float32))
