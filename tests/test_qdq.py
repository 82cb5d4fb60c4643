"""QuantizeLinear, DequantizeLinear and the uint8 Add (csrc/kernels/qdq.c)
against their numpy twins, exactly: rounding half to even, saturation, NaN
and infinities, any length (the vectorised body and its tail), on every SIMD
level (plain loops the compiler vectorises, compiled again for AVX2 and
AVX-512 on x86); the ARM and clang builds run in test_qdq_builds.py."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import edgeinfer
from edgeinfer import kernels, reference
from simd_levels import available_levels, forced_simd

lengths = st.integers(0, 300)
seeds = st.integers(0, 2 ** 32 - 1)
zeros = st.integers(0, 255)
scales = st.floats(0.0001220703125, 10.0, width=32)


def floats_with_edges(seed, n):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(n) * rng.choice([0.01, 1, 100, 1e6], n)).astype(np.float32)
    if n:
        edges = np.float32([np.nan, np.inf, -np.inf, 0.5, -0.5, 1.5, 2.5, -2.5, 254.5, 1e30])
        x[rng.integers(0, n, min(n, 10))] = edges[:min(n, 10)]
    return x


@settings(max_examples=60, deadline=None)
@given(lengths, seeds, scales, zeros)
def test_quantize_u8_matches_reference(n, seed, scale, zero):
    x = floats_with_edges(seed, n)
    for level in available_levels():
        with forced_simd(level):
            np.testing.assert_array_equal(kernels.quantize_u8(x, scale, zero),
                                          reference.quantize_u8(x, scale, zero))


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 40), st.integers(1, 20), st.integers(1, 40), seeds, scales, zeros)
def test_quantize_u8_nhwc_matches_reference(c, h, w, seed, scale, zero):
    # partial blocks of 16 channels and 16 pixels, and more than one strip of 256 pixels
    x = floats_with_edges(seed, c * h * w).reshape(c, h, w)
    for level in available_levels():
        with forced_simd(level):
            np.testing.assert_array_equal(kernels.quantize_u8_nhwc(x, scale, zero),
                                          reference.quantize_u8_nhwc(x, scale, zero))


def test_quantize_u8_nhwc_refuses_an_out_of_another_shape():
    with pytest.raises(ValueError, match="out must be"):
        edgeinfer._core.quantize_u8_nhwc(np.zeros((4, 6), np.float32), 1.0, 0,
                                         np.zeros((4, 6), np.uint8))


@settings(max_examples=40, deadline=None)
@given(lengths, seeds, scales, zeros)
def test_dequantize_u8_matches_reference(n, seed, scale, zero):
    x = np.random.default_rng(seed).integers(0, 256, n, dtype=np.uint8)
    for level in available_levels():
        with forced_simd(level):
            np.testing.assert_array_equal(kernels.dequantize_u8(x, scale, zero),
                                          reference.dequantize_u8(x, scale, zero))


@settings(max_examples=60, deadline=None)
@given(lengths, seeds, zeros, st.floats(0.0009765625, 50.0, width=32), zeros,
       st.floats(0.0009765625, 50.0, width=32), zeros)
def test_qadd_u8_matches_reference(n, seed, a_zero, a_ratio, b_zero, b_ratio, y_zero):
    rng = np.random.default_rng(seed)
    a, b = (rng.integers(0, 256, n, dtype=np.uint8) for _ in range(2))
    args = (a, a_zero, a_ratio, b, b_zero, b_ratio, y_zero)
    for level in available_levels():
        with forced_simd(level):
            np.testing.assert_array_equal(kernels.qadd_u8(*args), reference.qadd_u8(*args))


@pytest.mark.parametrize("level", ["portable", "sse2", "avx2", "avx512", "neon"])
def test_quantize_u8_rounds_half_to_even_and_saturates(level):
    # 20 values: a vector's worth on AVX-512 as well as the tail
    x = np.float32([0.5, 1.5, 2.5, -0.5, -1.5, 300, -300, np.nan, np.inf, -np.inf] * 2)
    with forced_simd(level):
        assert kernels.quantize_u8(x, 1.0, 0).tolist() == [0, 2, 2, 0, 0, 255, 0, 0, 255, 0] * 2
        assert kernels.quantize_u8(x, 1.0, 128).tolist() == [128, 130, 130, 128, 126, 255, 0, 0,
                                                             255, 0] * 2


def test_qadd_u8_gives_its_twin_whether_or_not_the_compiler_fuses():
    """With float32 products summed in float32, a build that fused one
    product into the sum (clang contracts a * b + c under -ffp-contract=fast
    despite any pragma) gave 98 here where the twin gives 99; in float64 the
    products are exact, so fused or not the sum is rounded once."""
    args = (np.uint8([254]), 3, np.float32(0.0113), np.uint8([128]), 7, np.float32(0.6997), 11)
    assert reference.qadd_u8(*args).tolist() == kernels.qadd_u8(*args).tolist()
    rng = np.random.default_rng(5)
    a, b = (rng.integers(0, 256, 4096, dtype=np.uint8) for _ in range(2))
    for a_ratio, b_ratio in ((0.1, 0.7), (1 / 3, 2 / 3), (0.0113, 0.6997)):
        args = (a, 3, a_ratio, b, 7, b_ratio, 11)
        np.testing.assert_array_equal(kernels.qadd_u8(*args), reference.qadd_u8(*args))


@pytest.mark.parametrize("call", [
    lambda: edgeinfer._core.quantize_u8(np.zeros(4, np.float32), 1.0, 0, np.zeros(3, np.uint8)),
    lambda: edgeinfer._core.dequantize_u8(np.zeros(4, np.uint8), 1.0, 0, np.zeros(5, np.float32)),
    lambda: edgeinfer._core.qadd_u8(np.zeros(4, np.uint8), 0, 1.0, np.zeros(2, np.uint8), 0, 1.0,
                                    0, np.zeros(4, np.uint8)),
    lambda: edgeinfer._core.quantize_u8(np.zeros(4, np.float32), 1.0, 256, np.zeros(4, np.uint8)),
], ids=["short-out", "long-out", "short-b", "zero-point"])
def test_core_qdq_refuses_lengths_or_zero_points_that_do_not_fit(call):
    with pytest.raises(ValueError, match="qdq:"):
        call()


def test_qadd_u8_refuses_two_shapes():
    with pytest.raises(ValueError, match="one shape"):
        kernels.qadd_u8(np.zeros(4, np.uint8), 0, 1.0, np.zeros(5, np.uint8), 0, 1.0, 0)


@pytest.mark.parametrize("n", [16384 * 3 + 5, 16384 * 2, 40000])
def test_qdq_steps_split_between_threads_write_what_one_thread_does(n):
    """Large enough, quantize, dequantize, the uint8 Add and the channels-last
    quantisation share their chunks (strips of pixels) between threads: the
    same bytes as one thread and the reference, the last partial chunk
    included."""
    x = floats_with_edges(n, n)
    rng = np.random.default_rng(n)
    a, b = (rng.integers(0, 256, n, dtype=np.uint8) for _ in range(2))
    planes = x[: 24 * (n // 24)].reshape(24, 1, -1)
    steps = {
        "quantize": (lambda: kernels.quantize_u8(x, 0.05, 7),
                     reference.quantize_u8(x, 0.05, 7)),
        "dequantize": (lambda: kernels.dequantize_u8(a, 0.05, 7),
                       reference.dequantize_u8(a, 0.05, 7)),
        "qadd": (lambda: kernels.qadd_u8(a, 3, 0.7, b, 250, 1.3, 9),
                 reference.qadd_u8(a, 3, 0.7, b, 250, 1.3, 9)),
        "quantize_nhwc": (lambda: kernels.quantize_u8_nhwc(planes, 0.05, 7),
                          reference.quantize_u8_nhwc(planes, 0.05, 7))}
    core, threads = edgeinfer._core, edgeinfer.get_num_threads()
    try:
        for name, (ours, expected) in steps.items():
            by_threads = []
            for count in (1, 2):
                edgeinfer.set_num_threads(count)
                core.set_work_per_thread(0 if count > 1 else None)   # split however small
                by_threads.append(ours())
                np.testing.assert_array_equal(by_threads[-1], expected, err_msg=name)
            np.testing.assert_array_equal(by_threads[0], by_threads[1], err_msg=name)
    finally:
        edgeinfer.set_num_threads(threads)
        core.set_work_per_thread(None)
