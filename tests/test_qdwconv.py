"""The integer depthwise convolution (csrc/kernels/qdwconv.c) against its numpy
twin, exactly, under every SIMD level this CPU has (portable C, AVX2; the
planes and blocks take the sums in float32, exact for filters up to
QDWCONV_MAX_TAPS, the channels-last kernel in int32, with and without VNNI) and one
and two threads (tests/kernel_check.py), in each layout: planes, channels-last
blocks, and the int8 region's channels-last kernel (qdwconv_nhwc, reached
through the "nhwc" forced layout). NEON runs under qemu in
test_qdwconv_builds.py."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import strategies as st

import edgeinfer
from edgeinfer import kernels, reference
from kernel_check import Case, KernelCheck

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(edgeinfer.__file__)))


def assert_exact(ours, expected, case):
    np.testing.assert_array_equal(ours, expected)


QDWCONV = KernelCheck(
    kernels.qdwconv, reference.qdwconv, compare=assert_exact,
    # every case through both layouts, whatever its width would choose
    paths={"by shape": None,
           "planes": lambda: edgeinfer._core.qdwconv_force_layout("planes"),
           "channels_last": lambda: edgeinfer._core.qdwconv_force_layout("channels_last"),
           "nhwc": lambda: edgeinfer._core.qdwconv_force_layout("nhwc"),
           # the AVX-512 unit's pmaddwd sums on a CPU that has VNNI's
           "nhwc_without_vnni": lambda: (edgeinfer._core.qdwconv_force_layout("nhwc"),
                                         edgeinfer._core.qdwconv_nhwc_allow_vnni(False))},
    reset_paths=lambda: (edgeinfer._core.qdwconv_force_layout(None),
                         edgeinfer._core.qdwconv_nhwc_allow_vnni(True)))


def problem(seed, c, h, w, kernel, stride, pads, clamp=False, with_bias=True):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (c, h, w), dtype=np.uint8)
    weights = rng.integers(-128, 128, (c, kernel, kernel), dtype=np.int8)
    bias = rng.integers(-20000, 20000, c, dtype=np.int32) if with_bias else None
    multiplier = rng.uniform(1e-4, 3e-3, c).astype(np.float32)
    x_zero, y_zero = int(rng.integers(0, 256)), int(rng.integers(0, 256))
    lo, hi = (min(y_zero, 40), max(y_zero, 200)) if clamp else (0, 255)
    return Case((x, x_zero, weights, bias, multiplier, y_zero, lo, hi, stride, tuple(pads)))


@st.composite
def problems(draw):
    kernel = draw(st.sampled_from([1, 3, 5]))
    pads = draw(st.lists(st.integers(0, kernel - 1), min_size=4, max_size=4))
    return problem(draw(st.integers(0, 2**32 - 1)), draw(st.integers(1, 20)),
                   draw(st.integers(kernel, 40)), draw(st.integers(kernel, 40)), kernel,
                   draw(st.sampled_from([1, 2])), pads, draw(st.booleans()), draw(st.booleans()))


# widths past one and two 16-pixel chunks, odd and even, strides 1 and 2, zero points anywhere
test_qdwconv_matches_reference = QDWCONV.property(problems(), max_examples=60)

REGRESSIONS = {
    # EfficientNet-Lite0's shapes, cut to a few channels: 3x3 and 5x5, same padding, strides 1 and 2
    "dw3x3_stride2_112": problem(1, 4, 112, 112, 3, 2, (0, 0, 1, 1)),
    "dw5x5_stride1_14": problem(2, 6, 14, 14, 5, 1, (2, 2, 2, 2)),
    "dw5x5_stride2_28": problem(3, 3, 28, 28, 5, 2, (1, 1, 2, 2)),
    # every channel past the threading threshold
    "many_channels_threaded": problem(4, 96, 30, 30, 3, 1, (1, 1, 1, 1), clamp=True),
    # channels-last blocks of 16: a partial last block, a 7x7 map (one pixel
    # group and a tail), stride 2 onto 7x7
    "channels_last_partial_block_7x7": problem(5, 37, 7, 7, 5, 1, (2, 2, 2, 2), clamp=True),
    "channels_last_stride2_to_7x7": problem(6, 20, 14, 14, 5, 2, (1, 1, 2, 2)),
    "channels_last_many_blocks_threaded": problem(7, 200, 14, 14, 3, 1, (1, 1, 1, 1)),
    # the int8 region's kernel: a map of several bands (56 wide), a band
    # that ends mid-map, and a pad larger than the filter's reach
    "nhwc_bands_56_wide": problem(8, 48, 56, 56, 3, 1, (1, 1, 1, 1)),
    "nhwc_stride2_bands_odd_rows": problem(9, 17, 57, 61, 5, 2, (2, 2, 1, 1), clamp=True),
    # an odd count of 16-channel blocks in one band (144 channels on 28x28,
    # cut to 48: 3 blocks): at two threads each block's rows go in two bands
    "nhwc_odd_blocks_bands_split_between_threads": problem(10, 48, 20, 20, 5, 1, (2, 2, 2, 2)),
    # all products at their extreme: 25 x 255 x -128 in int32, each within int16
    "extreme_products": Case((np.full((2, 7, 7), 255, np.uint8), 0,
                              np.full((2, 5, 5), -128, np.int8), None,
                              np.full(2, 1 / 8192, np.float32), 255, 0, 255, 1, (2, 2, 2, 2))),
}
test_regressions = QDWCONV.regression_test(REGRESSIONS)


def test_qdwconv_ties_round_to_even():
    # sums 1, 3, 5, 7 times 0.5: 0.5 -> 0, 1.5 -> 2, 2.5 -> 2, 3.5 -> 4
    x = np.array([1, 3, 5, 7], np.uint8).reshape(1, 1, 4)
    got = kernels.qdwconv(x, 0, np.ones((1, 1, 1), np.int8), None, np.float32([0.5]), 10)
    np.testing.assert_array_equal(got.reshape(-1), [10, 12, 12, 14])


def test_qdwconv_padding_is_the_zero_point():
    # a padded position holds x_zero, the quantised 0.0: it adds nothing to the sum
    x = np.full((1, 1, 1), 130, np.uint8)
    got = kernels.qdwconv(x, 128, np.ones((1, 3, 3), np.int8), None, np.float32([1.0]), 0,
                          pads=(1, 1, 1, 1))
    assert got.reshape(-1).tolist() == [2]


def test_qdwconv_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match=r"x must be \(c, h, w\) and w \(c, kh, kw\)"):
        kernels.qdwconv(np.zeros((3, 4, 4), np.uint8), 0, np.zeros((2, 3, 3), np.int8), None,
                        np.ones(3, np.float32), 0)


def test_qdwconv_refuses_filters_past_exact_float_sums():
    # 23 x 23 taps could sum past 2^24, where float32 sums stop being exact
    taps = int(np.sqrt(edgeinfer._core.QDWCONV_MAX_TAPS)) + 1
    x, w = np.zeros((1, taps, taps), np.uint8), np.zeros((1, taps, taps), np.int8)
    with pytest.raises(ValueError, match="taps"):
        kernels.qdwconv(x, 0, w, None, np.ones(1, np.float32), 0)


def test_qdwconv_refuses_an_empty_filter():
    for shape in [(2, 0, 3), (2, 3, 0)]:
        with pytest.raises(ValueError, match="kh, kw >= 1"):
            kernels.qdwconv(np.zeros((2, 4, 4), np.uint8), 0, np.zeros(shape, np.int8), None,
                            np.ones(2, np.float32), 0)


def _core_qdwconv_args(c=4, bias=4, multiplier=4, out=(4, 4, 4), w=(4, 3, 3)):
    """Arguments for edgeinfer._core.qdwconv, the wrapper the native backend
    calls without kernels.qdwconv's checks, with one length set wrong."""
    return (np.zeros((c, 4, 4), np.uint8), 0, np.ones(w, np.int8),
            np.zeros(bias, np.int32), np.ones(multiplier, np.float32), 0, 0, 255, 1, 1, 1,
            np.zeros(out, np.uint8))


@pytest.mark.parametrize("wrong", [dict(bias=1), dict(multiplier=3), dict(out=(2, 4, 4)),
                                   dict(w=(5, 3, 3))], ids=["bias", "multiplier", "out", "w"])
def test_core_qdwconv_refuses_lengths_that_do_not_match_the_channels(wrong):
    with pytest.raises(ValueError, match="must all have 4 channels"):
        edgeinfer._core.qdwconv(*_core_qdwconv_args(**wrong))


def test_core_qdwconv_refuses_an_empty_filter_or_output():
    with pytest.raises(ValueError, match="must not be empty"):
        edgeinfer._core.qdwconv(*_core_qdwconv_args(w=(4, 0, 3)))
    with pytest.raises(ValueError, match="must not be empty"):
        edgeinfer._core.qdwconv(*_core_qdwconv_args(out=(4, 0, 4)))


def test_core_qdwconv_with_matching_lengths_runs():
    args = _core_qdwconv_args()
    edgeinfer._core.qdwconv(*args)
    assert args[-1].shape == (4, 4, 4)
    np.testing.assert_array_equal(args[-1], kernels.qdwconv(
        args[0], 0, args[2], args[3], args[4], 0, pads=(1, 1, 1, 1)))


def test_core_qdwconv_refuses_a_span_past_c_ints():
    # (out - 1) x stride + kernel rows would wrap the C kernel's int arithmetic
    args = list(_core_qdwconv_args(out=(4, 3, 3)))
    args[8] = 2 ** 30      # stride
    with pytest.raises(ValueError, match="2\\^30"):
        edgeinfer._core.qdwconv(*args)


def test_qdwconv_nhwc_matches_its_twin():
    case = problem(10, 40, 20, 23, 5, 2, (2, 1, 2, 2), clamp=True)
    x, rest = case.args[0], case.args[1:]
    got = kernels.qdwconv_nhwc(x.transpose(1, 2, 0), *rest)
    np.testing.assert_array_equal(got, reference.qdwconv_nhwc(x.transpose(1, 2, 0), *rest))
    np.testing.assert_array_equal(got, reference.qdwconv(*case.args).transpose(1, 2, 0))


def test_qdwconv_nhwc_packed_matches_its_twin_and_refuses_another_filter():
    case = problem(11, 37, 15, 16, 5, 1, (2, 2, 2, 2))
    x, x_zero, weights, bias, multiplier, y_zero, lo, hi, stride, pads = case.args
    packed = edgeinfer._core.qdwconv_nhwc_pack(weights, bias, multiplier)
    out = np.empty((15, 16, 37), np.uint8)
    edgeinfer._core.qdwconv_nhwc_packed(np.ascontiguousarray(x.transpose(1, 2, 0)), x_zero,
                                        packed, y_zero, lo, hi, stride, *pads[:2], out)
    np.testing.assert_array_equal(out, reference.qdwconv(*case.args).transpose(1, 2, 0))
    with pytest.raises(ValueError, match="not one of qdwconv_nhwc_pack's"):
        edgeinfer._core.qdwconv_nhwc_packed(np.ascontiguousarray(x.transpose(1, 2, 0)), x_zero,
                                            (packed[0][:-1],) + packed[1:], y_zero, lo, hi,
                                            stride, *pads[:2], out)


@pytest.mark.parametrize("shape", [(1, 1), (5, 7), (16, 16), (32, 12544), (1280, 49), (17, 33)])
def test_u8_transpose_swaps_rows_and_columns(shape):
    x = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    out = np.empty(shape[::-1], np.uint8)
    edgeinfer._core.u8_transpose(x, out)
    np.testing.assert_array_equal(out, x.T)


def test_u8_transpose_refuses_an_out_of_another_shape():
    with pytest.raises(ValueError, match="out must be"):
        edgeinfer._core.u8_transpose(np.zeros((4, 6), np.uint8), np.zeros((4, 6), np.uint8))


def test_qdwconv_nhwc_on_a_row_of_2_pow_26_pixels_does_not_divide_by_zero(tmp_path):
    """The band height divided by a row's tile bytes computed in int: a row of
    2**26 pixels wrapped it to zero and the process died of SIGFPE. In a child
    with its address space capped, the 4 GiB tile cannot be had: a MemoryError,
    not a crash."""
    if "ASAN_OPTIONS" in os.environ:
        pytest.skip("AddressSanitizer maps terabytes of shadow memory: it cannot start under "
                    "the address-space cap this test sets (the plain build runs it)")
    script = tmp_path / "wide_row.py"
    script.write_text(textwrap.dedent("""
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
        import numpy as np
        from edgeinfer.core.loader import core
        x = np.zeros((1, 1 << 26, 1), np.uint8)
        out = np.zeros_like(x)
        try:
            core.qdwconv_nhwc_packed(x, 0, core.qdwconv_nhwc_pack(
                np.ones((1, 1, 1), np.int8), None, np.ones(1, np.float32)), 0, 0, 255, 1, 0, 0, out)
        except MemoryError:
            pass
    """))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": ROOT})
    assert done.returncode == 0, done.stderr
