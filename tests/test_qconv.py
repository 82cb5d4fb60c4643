"""The integer 1x1 convolution (csrc/kernels/qconv.c) against its numpy twin, exactly,
on every SIMD path this machine can run: portable C, AVX2 (16-bit vpmaddwd),
AVX-VNNI and AVX-512 VNNI; and in both layouts, the planes and channels-last
(csrc/kernels/qconv_nhwc.c, the int8 region's kernel, reached through
qconv_force_layout("nhwc") and called directly). NEON runs under qemu in
test_qconv_builds.py."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import edgeinfer
from edgeinfer import kernels, reference
from simd_levels import available_levels, forced_simd

# (m, k, h, w, stride): tails in every direction (pixels not a multiple of the
# 64-pixel block or of 8/16, channels not a multiple of 4), strided 1x1
SHAPES = [(1, 1, 1, 1, 1), (4, 4, 8, 8, 1), (5, 3, 9, 11, 1), (9, 17, 7, 7, 1),
          (16, 32, 12, 12, 2), (3, 100, 5, 13, 1), (24, 40, 15, 15, 2), (7, 64, 1, 65, 1)]

# (SIMD level, VNNI mode) pairs; VNNI modes are only used at avx2/avx512
PATHS = [("portable", -1), ("avx2", 0), ("avx2", 1), ("avx512", 0), ("avx512", 2), ("neon", -1)]


def problem(seed, m, k, h, w):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (k, h, w), dtype=np.uint8)
    weights = rng.integers(-128, 128, (m, k), dtype=np.int8)
    bias = rng.integers(-5000, 5000, m, dtype=np.int32)
    multiplier = rng.uniform(1e-4, 3e-3, m).astype(np.float32)
    return x, int(rng.integers(0, 256)), weights, bias, multiplier, int(rng.integers(0, 256))


LAYOUTS = ["planes", "nhwc"]


@pytest.fixture(params=LAYOUTS)
def layout(request):
    edgeinfer._core.qconv_force_layout(request.param)
    try:
        yield request.param
    finally:
        edgeinfer._core.qconv_force_layout(None)


@pytest.fixture
def path(request):
    level, vnni = request.param
    with forced_simd(level):
        try:
            edgeinfer._core.qconv_vnni(vnni)
        except ValueError:
            pytest.skip(f"this CPU has no VNNI mode {vnni}")
        try:
            yield request.param
        finally:
            edgeinfer._core.qconv_vnni(-1)


@pytest.mark.parametrize("path", PATHS, indirect=True, ids=[f"{a}-vnni{b}" for a, b in PATHS])
@pytest.mark.parametrize("shape", range(len(SHAPES)))
def test_qconv1x1_matches_reference(path, layout, shape):
    m, k, h, w, stride = SHAPES[shape]
    x, x_zero, weights, bias, multiplier, y_zero = problem(shape, m, k, h, w)
    for lo, hi, b in ((0, 255, bias), (y_zero, 255, None), (0, max(y_zero, 200), bias)):
        args = (x, x_zero, weights, b, multiplier, y_zero, lo, hi, stride)
        np.testing.assert_array_equal(kernels.qconv1x1(*args), reference.qconv1x1(*args))


def _runnable_paths():
    """The (level, VNNI mode) pairs this CPU runs."""
    runnable = []
    for level, vnni in PATHS:
        if level not in available_levels():
            continue
        edgeinfer._core.simd_force(level)
        try:
            edgeinfer._core.qconv_vnni(vnni)
            runnable.append((level, vnni))
        except ValueError:
            pass
        finally:
            edgeinfer._core.qconv_vnni(-1)
            edgeinfer._core.simd_force(None)
    return runnable


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 20), st.integers(1, 70), st.integers(1, 20), st.integers(1, 20),
       st.sampled_from([1, 2]), st.booleans(), st.integers(0, 2 ** 32 - 1))
def test_qconv1x1_matches_reference_on_every_path_over_shapes(m, k, h, w, stride, clamp, seed):
    # rows past a multiple of the 4- and 6-row passes, pixels past 16-pixel
    # vectors and 64-pixel blocks, channels past whole quads
    x, x_zero, weights, bias, multiplier, y_zero = problem(seed, m, k, h, w)
    lo, hi = (min(y_zero, 30), max(y_zero, 220)) if clamp else (0, 255)
    args = (x, x_zero, weights, bias, multiplier, y_zero, lo, hi, stride)
    expected = reference.qconv1x1(*args)
    for level, vnni in _runnable_paths():
        edgeinfer._core.simd_force(level)
        edgeinfer._core.qconv_vnni(vnni)
        try:
            np.testing.assert_array_equal(kernels.qconv1x1(*args), expected,
                                          err_msg=f"{level} vnni {vnni}")
            # the channels-last kernel as the int8 region calls it
            np.testing.assert_array_equal(
                kernels.qconv1x1_nhwc(x.transpose(1, 2, 0), *args[1:]),
                expected.transpose(1, 2, 0), err_msg=f"nhwc {level} vnni {vnni}")
        finally:
            edgeinfer._core.qconv_vnni(-1)
            edgeinfer._core.simd_force(None)


@pytest.mark.parametrize("path", PATHS, indirect=True, ids=[f"{a}-vnni{b}" for a, b in PATHS])
def test_qconv1x1_255_times_minus_128_does_not_saturate(path, layout):
    # vpmaddubsw would add 255 x -128 twice into int16 and saturate at -32768
    k, m = 64, 4
    x = np.full((k, 4, 4), 255, np.uint8)
    weights = np.full((m, k), -128, np.int8)
    multiplier = np.full(m, 1 / 8192, np.float32)
    got = kernels.qconv1x1(x, 0, weights, None, multiplier, 255, 0, 255)
    expected = reference.qconv1x1(x, 0, weights, None, multiplier, 255, 0, 255)
    np.testing.assert_array_equal(got, expected)
    assert int(expected[0, 0, 0]) == 255 - 255   # 64 x 255 x -128 / 8192 = -255


@pytest.mark.parametrize("path", PATHS, indirect=True, ids=[f"{a}-vnni{b}" for a, b in PATHS])
def test_qconv1x1_ties_round_to_even(path, layout):
    # sums of 1, 3, 5 times a multiplier of 0.5: 0.5 -> 0, 1.5 -> 2, 2.5 -> 2
    x = np.array([1, 3, 5, 7], np.uint8).reshape(1, 1, 4)
    got = kernels.qconv1x1(x, 0, np.ones((1, 1), np.int8), None, np.float32([0.5]), 10)
    np.testing.assert_array_equal(got.reshape(-1), [10, 12, 12, 14])


def test_core_qconv1x1_pack_refuses_a_bias_shorter_than_the_filters():
    weights = np.ones((64, 8), np.int8)
    with pytest.raises(ValueError, match="bias has 1 values for 64 filters"):
        edgeinfer._core.qconv1x1_pack(weights, np.zeros(1, np.int32), 0)


def _packed_problem():
    x, x_zero, weights, bias, multiplier, y_zero = problem(3, 6, 5, 7, 9)
    return x, edgeinfer._core.qconv1x1_pack(weights, bias, x_zero), multiplier, y_zero


def test_core_qconv1x1_packed_refuses_out_not_the_shape_the_stride_gives():
    x, packed, multiplier, y_zero = _packed_problem()
    # stride 2 on 7 x 9 gives 4 x 5; 7 x 9 (stride 1's) would be written past
    for shape in [(6, 7, 9), (6, 3, 5), (6, 4, 4)]:
        with pytest.raises(ValueError, match="out must be"):
            edgeinfer._core.qconv1x1_packed(x, packed, multiplier, y_zero, 0, 255, 2,
                                            np.zeros(shape, np.uint8))


def test_core_qconv1x1_packed_refuses_a_short_multiplier():
    x, packed, multiplier, y_zero = _packed_problem()
    with pytest.raises(ValueError, match="do not fit the packed weights"):
        edgeinfer._core.qconv1x1_packed(x, packed, multiplier[:1], y_zero, 0, 255, 1,
                                        np.zeros((6, 7, 9), np.uint8))


def test_core_qconv1x1_refuses_a_bias_or_out_that_does_not_fit():
    x, x_zero, weights, bias, multiplier, y_zero = problem(3, 6, 5, 7, 9)
    good_out = np.zeros((6, 7, 9), np.uint8)
    with pytest.raises(ValueError, match="do not fit w"):
        edgeinfer._core.qconv1x1(x, x_zero, weights, bias[:1], multiplier, y_zero, 0, 255, 1,
                                 good_out)
    with pytest.raises(ValueError, match="shape the stride gives"):
        edgeinfer._core.qconv1x1(x, x_zero, weights, bias, multiplier, y_zero, 0, 255, 2,
                                 good_out)


def test_core_qconv1x1_packed_with_the_stride_shape_matches_reference():
    x, x_zero, weights, bias, multiplier, y_zero = problem(3, 6, 5, 7, 9)
    packed = edgeinfer._core.qconv1x1_pack(weights, bias, x_zero)
    out = np.zeros((6, 4, 5), np.uint8)
    edgeinfer._core.qconv1x1_packed(x, packed, multiplier, y_zero, 0, 255, 2, out)
    np.testing.assert_array_equal(out, reference.qconv1x1(x, x_zero, weights, bias, multiplier,
                                                          y_zero, stride=2))


# (m, k, h, w): a map of many pixel blocks, split by blocks; 7x7 maps, one
# pixel block, whose output channels two threads split in groups of 12 rows
# with a short last group (k = 120: enough work, 49 x m x k, for two threads)
@pytest.mark.parametrize("shape", [(32, 48, 40, 40), (50, 120, 7, 7), (1152, 120, 7, 7)],
                         ids=["blocks", "small-map-50-rows", "small-map-1152-rows"])
def test_qconv1x1_threads_agree(shape, layout):
    x, x_zero, weights, bias, multiplier, y_zero = problem(shape[0], *shape)
    args = (x, x_zero, weights, bias, multiplier, y_zero)
    before = edgeinfer._core.get_num_threads()
    try:
        edgeinfer._core.set_num_threads(2)
        two = kernels.qconv1x1(*args)
    finally:
        edgeinfer._core.set_num_threads(before)
    np.testing.assert_array_equal(two, reference.qconv1x1(*args))


@pytest.mark.parametrize("shapes", [((4, 4, 7), (0, 4)), ((4, 0, 7), (3, 4))],
                         ids=["no-filters", "no-pixels"])
def test_core_qconv1x1_with_no_filters_or_no_pixels_returns(shapes):
    # the split of a small map's rows divided by its block and row counts:
    # with none of either it divided by zero and killed the process
    x_shape, w_shape = shapes
    x, w = np.zeros(x_shape, np.uint8), np.ones(w_shape, np.int8)
    m = w_shape[0]
    out = np.zeros((m,) + x_shape[1:], np.uint8)
    edgeinfer._core.qconv1x1(x, 0, w, np.zeros(m, np.int32), np.ones(m, np.float32), 0, 0, 255,
                             1, out)
    assert out.size == 0


def test_core_qconv1x1_nhwc_refuses_out_not_the_shape_the_stride_gives():
    x, x_zero, weights, bias, multiplier, y_zero = problem(3, 6, 5, 7, 9)
    packed = edgeinfer._core.qconv1x1_nhwc_pack(weights, bias, x_zero, multiplier)
    x = np.ascontiguousarray(x.transpose(1, 2, 0))
    for shape in [(7, 9, 6), (3, 5, 6), (4, 5, 5)]:
        with pytest.raises(ValueError, match="out must be"):
            edgeinfer._core.qconv1x1_nhwc(x, packed, y_zero, 0, 255, 2, np.zeros(shape, np.uint8))


def test_core_qconv1x1_nhwc_pack_refuses_a_short_bias():
    weights = np.ones((20, 8), np.int8)
    with pytest.raises(ValueError, match="must have 20 values"):
        edgeinfer._core.qconv1x1_nhwc_pack(weights, np.zeros(1, np.int32), 0,
                                           np.ones(20, np.float32))


@pytest.mark.parametrize("k", [1, 2, 3, 5, 6, 7])
def test_qconv1x1_nhwc_channels_past_whole_quads_read_nothing_past_the_map(k):
    # the last pixel's last quad is partial: its missing bytes lie past the
    # buffer, and are read as zero, not loaded (the sanitizer build checks)
    x, x_zero, weights, bias, multiplier, y_zero = problem(k, 17, k, 3, 3)
    expected = reference.qconv1x1(x, x_zero, weights, bias, multiplier, y_zero)
    for level, vnni in _runnable_paths():
        edgeinfer._core.simd_force(level)
        edgeinfer._core.qconv_vnni(vnni)
        try:
            got = kernels.qconv1x1_nhwc(x.transpose(1, 2, 0), x_zero, weights, bias, multiplier,
                                        y_zero)
            np.testing.assert_array_equal(got, expected.transpose(1, 2, 0))
        finally:
            edgeinfer._core.qconv_vnni(-1)
            edgeinfer._core.simd_force(None)
