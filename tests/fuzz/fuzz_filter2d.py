"""Fuzzes edgeinfer.filter2d: uint8 and float32 images of 1..4 channels read
through every kind of view, kernels of every size up to larger than the
image, every border, on each vector unit. Clean errors: ValueError."""
import numpy as np

from harness import SIMD_LEVELS, Provider, forced_simd, fuzz, instrumented, strided_view

with instrumented(__name__):
    # the package root is lazy: what is fuzzed is imported here, to be instrumented
    import edgeinfer
    import edgeinfer._core  # noqa: F401
    import edgeinfer.kernels  # noqa: F401
    from edgeinfer.kernels.filter_kernels import BORDERS, FILTER_KERNELS

CLEAN_ERRORS = (ValueError,)


def one_input(data):
    p = Provider(data)
    h, w = p.int_in(1, 30), p.int_in(1, 30)
    channels = p.pick((0, 1, 2, 3, 4))          # 0: a 2-D image
    dtype = p.pick((np.uint8, np.float32))
    shape = (h, w) + ((channels,) if channels else ())
    rng = np.random.default_rng(p.int_in(0, 99))
    image = strided_view(p, shape, dtype, rng)
    if p.pick((True, False)):
        kernel = p.pick(sorted(FILTER_KERNELS))
    else:
        kernel = rng.standard_normal((p.int_in(0, 9), p.int_in(1, 9))).astype(
            p.pick((np.float32, np.float64)))
    with forced_simd(edgeinfer._core, p.pick(SIMD_LEVELS)):
        out = edgeinfer.filter2d(image, kernel, border=p.pick(BORDERS))
    assert out.shape == image.shape and out.dtype == image.dtype, (out.shape, out.dtype)


if __name__ == "__main__":
    fuzz(one_input, CLEAN_ERRORS)
