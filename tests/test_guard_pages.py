"""Every public kernel reads only its arrays' memory and writes only its output's.

Each case draws a kernel problem (the strategies of the kernel's own test
file), lays every input out in a drawn memory layout — axes stored in any
order (transposed), reversed, stepped, sliced out of a larger block, or
broadcast with a zero stride — and places each input and output against an
unmapped page at its first or last byte. A read or write one byte outside
crashes the test run; the result must still match the numpy reference. Every
SIMD level this CPU has runs every case. Views a kernel once mishandled are
named cases in the kernel's own REGRESSIONS table (test_filter2d.py,
test_preprocess.py).
"""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import edgeinfer
from edgeinfer import kernels, reference
from guard_pages import guarded_like, guarded_output
from simd_levels import available_levels, forced_simd as simd
from test_activation import PARAMS as ACTIVATION_PARAMS
from test_conv2d import assert_close, conv_cases
from test_elementwise import broadcast_pairs
from test_filter2d import assert_match as assert_filter_match, images, kernels as filter_kernels
from test_pool import pool_cases
from test_preprocess import assert_match as assert_preprocess_match, frames, options

LEVELS = available_levels()
SIDES = ("start", "end")


def _axis_slice(start, length, step):
    stop = start + (length - 1) * step + (1 if step > 0 else -1)
    return slice(start, None if stop < 0 else stop, step)


# How each axis may be laid out, by family: a step of 0 broadcasts, a
# negative one reverses. The families that read caller memory in place
# (preprocess, filter2d) run each family on its own, so a rare combination —
# a reversed column axis with adjacent channels — is drawn often enough.
STEPS = {"any": [1, 1, 2, -1, -2, 0], "reversed": [-1, -2, 1], "transposed": [1, -1],
         "broadcast": [0, 0, 1, -1]}


@st.composite
def relaid(draw, array, family="any", side=None):
    """`array`'s values in a drawn memory layout against a guard page. An axis
    drawn as broadcast keeps the values at index 0 along it (a zero stride
    can only repeat one value), so the caller must use the returned array's
    values, not the original's."""
    array = np.asarray(array)
    ndim = array.ndim
    shuffled = family in ("any", "transposed")
    order = draw(st.permutations(range(ndim))) if shuffled else list(range(ndim))
    steps = [draw(st.sampled_from(STEPS[family])) if n > 1 else 1 for n in array.shape]
    margins = [draw(st.integers(0, 1)) for _ in range(ndim)]
    values = array
    for axis, step in enumerate(steps):
        if step == 0:
            values = np.take(values, [0], axis=axis)
    lengths = [1 if s == 0 else (n - 1) * abs(s) + 1 for n, s in zip(array.shape, steps)]
    stored = np.zeros([lengths[a] + 2 * margins[a] for a in order], array.dtype)
    block = stored.transpose(np.argsort(order))  # logical axes, memory in `order`
    index = tuple(_axis_slice(m if s >= 0 else m + ln - 1, 1 if s == 0 else n, s or 1)
                  for m, ln, n, s in zip(margins, lengths, array.shape, steps))
    view = block[index + (Ellipsis,)]  # a view even of a 0-d array
    view[...] = values
    view = np.broadcast_to(view, array.shape)
    return guarded_like(view, side or draw(st.sampled_from(SIDES)))


def guarded_out(draw, shape, dtype=np.float32):
    return guarded_output(shape, dtype, draw(st.sampled_from(SIDES)))


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("family", sorted(STEPS))
@pytest.mark.parametrize("level", LEVELS)
@given(data=st.data())
def test_preprocess_stays_inside_frame_and_output(level, family, side, data):
    frame = data.draw(relaid(data.draw(frames()), family, side))
    opts = data.draw(options(frame))
    expected = reference.preprocess(frame, **opts)
    out = data.draw(st.builds(guarded_output, st.just(expected.shape), st.just(expected.dtype),
                              st.sampled_from(SIDES)))
    with simd(level):
        ours = edgeinfer.preprocess(frame, out=out, **opts)
    assert ours is out
    assert_preprocess_match(ours, expected, opts["dtype"],
                            scale=1.0 / np.asarray(opts.get("std", 1.0)).min())


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("family", sorted(STEPS))
@pytest.mark.parametrize("level", LEVELS)
@given(data=st.data())
def test_filter2d_stays_inside_image(level, family, side, data):
    image = data.draw(relaid(data.draw(images(max_side=24)), family, side))
    kernel = data.draw(filter_kernels())
    border = data.draw(st.sampled_from(["reflect101", "replicate", "constant"]))
    with simd(level):
        ours = edgeinfer.filter2d(image, kernel, border)
    assert_filter_match(ours, reference.filter2d(image, kernel, border), image)


@pytest.mark.parametrize("level", LEVELS)
@given(data=st.data())
def test_conv2d_stays_inside_its_arrays(level, data):
    x, w, b, kwargs = data.draw(conv_cases(max_side=10))
    x, w = data.draw(relaid(x)), data.draw(relaid(w))
    b = None if b is None else data.draw(relaid(b))
    expected = reference.conv2d(x, w, b, **kwargs)
    out = guarded_output(expected.shape, np.float32, data.draw(st.sampled_from(SIDES)))
    with simd(level):
        ours = edgeinfer.conv2d(x, w, b, out=out, **kwargs)
    assert_close(ours, expected, w[0].size)


@pytest.mark.parametrize("level", LEVELS)
@given(data=st.data())
def test_pooling_stays_inside_its_arrays(level, data):
    x, args = data.draw(pool_cases())
    x = data.draw(relaid(x))
    side = data.draw(st.sampled_from(SIDES))
    expected_max = reference.max_pool2d(x, **args)
    expected_avg = reference.avg_pool2d(x, **args)
    expected_global = reference.global_avg_pool(x)
    with simd(level):
        ours_max = kernels.max_pool2d(x, out=guarded_output(expected_max.shape, np.float32, side),
                                      **args)
        ours_avg = kernels.avg_pool2d(x, out=guarded_output(expected_avg.shape, np.float32, side),
                                      **args)
        ours_global = kernels.global_avg_pool(
            x, out=guarded_output(expected_global.shape, np.float32, side))
    np.testing.assert_array_equal(ours_max, expected_max)
    np.testing.assert_allclose(ours_avg, expected_avg, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours_global, expected_global, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("level", LEVELS)
@given(data=st.data(), rows=st.integers(1, 3), k=st.integers(1, 70), n=st.integers(1, 40),
       with_bias=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_dense_stays_inside_its_arrays(level, data, rows, k, n, with_bias, seed):
    rng = np.random.default_rng(seed)
    x = data.draw(relaid(rng.standard_normal((rows, k)).astype(np.float32)))
    w = data.draw(relaid(rng.standard_normal((k, n)).astype(np.float32)))
    bias = data.draw(relaid(rng.standard_normal(n).astype(np.float32))) if with_bias else None
    expected = reference.dense(x, w, bias)
    out = guarded_output(expected.shape, np.float32, data.draw(st.sampled_from(SIDES)))
    with simd(level):
        ours = kernels.dense(x, w, bias, out=out)
    np.testing.assert_allclose(ours, expected, rtol=1e-4, atol=1e-4 * k ** 0.5)


@pytest.mark.parametrize("level", LEVELS)
@given(data=st.data(), op=st.sampled_from(list(reference.elementwise.UFUNCS)))
def test_binary_stays_inside_its_arrays(level, data, op):
    a, b = data.draw(broadcast_pairs())
    a, b = data.draw(relaid(a)), data.draw(relaid(b))
    expected = reference.binary(op, a, b)
    out = guarded_output(expected.shape, np.float32, data.draw(st.sampled_from(SIDES)))
    with simd(level):
        ours = kernels.binary(op, a, b, out=out)
    np.testing.assert_allclose(ours, expected, rtol=1e-6, atol=0)


@pytest.mark.parametrize("level", LEVELS)
@given(data=st.data(), kind=st.sampled_from(sorted(ACTIVATION_PARAMS)),
       shape=st.lists(st.integers(1, 9), min_size=1, max_size=4),
       seed=st.integers(0, 2**32 - 1))
def test_activations_stay_inside_their_arrays(level, data, kind, shape, seed):
    x = data.draw(relaid((np.random.default_rng(seed).standard_normal(shape) * 4)
                         .astype(np.float32)))
    alpha, beta = ACTIVATION_PARAMS[kind]
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    side = data.draw(st.sampled_from(SIDES))
    expected = reference.activation(x, kind, alpha, beta)
    expected_softmax = reference.softmax(x, axis)
    with simd(level):
        ours = kernels.activation(x, kind, alpha, beta,
                                  out=guarded_output(x.shape, np.float32, side))
        ours_softmax = kernels.softmax(x, axis, out=guarded_output(x.shape, np.float32, side))
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours_softmax, expected_softmax, rtol=1e-5, atol=1e-6)


def test_guard_page_catches_a_read_past_the_end():
    """The harness itself: reading one element past a guarded array faults."""
    import os
    import subprocess
    import sys

    script = ("import sys, numpy as np; sys.path.insert(0, sys.argv[1]);"
              "from guard_pages import guarded_like;"
              "a = guarded_like(np.arange(10, dtype=np.uint8), 'end');"
              "np.lib.stride_tricks.as_strided(a, (11,), (1,)).sum()")
    result = subprocess.run([sys.executable, "-c", script, os.path.dirname(__file__)],
                            capture_output=True)
    assert result.returncode < 0 or result.returncode == 139, result
