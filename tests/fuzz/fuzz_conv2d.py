"""Fuzzes edgeinfer.conv2d: every path (1x1, im2col, indirect, plane filter,
depthwise) by shape, stride, dilation, padding, groups and activation, with
inputs that are views as well as contiguous arrays, on each vector unit.
Clean errors: ValueError."""
import numpy as np

from harness import SIMD_LEVELS, Provider, forced_simd, fuzz, instrumented

with instrumented(__name__):
    # the package root is lazy: what is fuzzed is imported here, to be instrumented
    import edgeinfer
    import edgeinfer._core  # noqa: F401
    import edgeinfer.kernels  # noqa: F401

CLEAN_ERRORS = (ValueError,)


def one_input(data):
    p = Provider(data)
    n, groups = p.int_in(1, 2), p.int_in(1, 4)
    c = groups * p.int_in(1, 4)
    m = groups * p.int_in(1, 4)
    x_shape = (n, c, p.int_in(1, 14), p.int_in(1, 14))
    w_shape = (m, c // groups, p.int_in(1, 5), p.int_in(1, 5))
    rng = np.random.default_rng(p.int_in(0, 99))
    x = rng.standard_normal(x_shape).astype(np.float32)
    if p.pick((False, True)):
        x = x[..., ::-1]                        # a reversed view: converted once
    w = rng.standard_normal(w_shape).astype(np.float32)
    b = rng.standard_normal(m).astype(np.float32) if p.pick((True, False)) else None
    padding = p.pick(("valid", "same_upper", "same_lower", "pads"))
    if padding == "pads":
        padding = tuple(p.int_in(0, 4) for _ in range(4))
    options = dict(stride=(p.int_in(1, 3), p.int_in(1, 3)),
                   dilation=(p.int_in(1, 3), p.int_in(1, 3)), padding=padding, groups=groups,
                   activation=p.pick((None, "relu", "relu6", (-1.0, 1.0), (None, 0.5))))
    with forced_simd(edgeinfer._core, p.pick(SIMD_LEVELS)):
        out = edgeinfer.conv2d(x, w, b, **options)
    assert out.dtype == np.float32 and out.shape[:2] == (n, m), (out.shape, out.dtype)


if __name__ == "__main__":
    fuzz(one_input, CLEAN_ERRORS)
