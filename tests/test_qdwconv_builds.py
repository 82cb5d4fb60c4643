"""The integer depthwise convolution built the way a Raspberry Pi builds it —
aarch64 with NEON, armv7 with and without NEON — and as plain C and with
clang, run (under qemu for ARM) and compared exactly with the numpy
reference."""
import subprocess

import numpy as np
import pytest

from cross_builds import BUILDS, build_driver
from edgeinfer import reference
from test_qdwconv import REGRESSIONS, problem

SOURCES = ["kernels/qdwconv.c", "kernels/qdwconv_blocked.c", "kernels/qdwconv_nhwc.c",
           "kernels/u8_transpose.c", "conv/scratch.c", "platform/cpu.c", "platform/threads.c",
           "platform/thread_pool.c"]

# (c, h, w, kernel, stride, pads): tails of the 8- and 16-pixel passes, both strides
SHAPES = [(1, 1, 1, 1, 1, (0, 0, 0, 0)), (3, 9, 11, 3, 1, (1, 1, 1, 1)),
          (5, 17, 19, 3, 2, (0, 0, 1, 1)), (2, 14, 14, 5, 1, (2, 2, 2, 2)),
          (4, 28, 27, 5, 2, (1, 2, 2, 1)), (2, 6, 40, 3, 2, (1, 0, 1, 2)),
          # channels-last blocks of 16: a partial block, and 7x7 at both strides
          (21, 7, 7, 5, 1, (2, 2, 2, 2)), (18, 14, 13, 3, 2, (0, 0, 1, 1)),
          # the int8 region's channels-last kernel: several bands of a wide map
          (16, 40, 150, 3, 2, (0, 0, 1, 1))]
LAYOUTS = {"by width": -1, "planes": 0, "channels_last": 1, "nhwc": 2}


@pytest.fixture(scope="module", params=sorted(BUILDS))
def binary(request, tmp_path_factory):
    return build_driver(request.param, "qdwconv_main.c", SOURCES,
                        tmp_path_factory.mktemp(request.param))


def run_driver(binary, case, layout=-1):
    x, x_zero, weights, bias, multiplier, y_zero, lo, hi, stride, pads = case.args
    c, h, w = x.shape
    kh, kw = weights.shape[1:]
    bias = np.zeros(c, np.int32) if bias is None else bias
    run = subprocess.run(binary + [str(a) for a in (c, h, w, kh, kw, stride, *pads, x_zero,
                                                    y_zero, lo, hi, layout)],
                         input=x.tobytes() + weights.tobytes() + bias.tobytes() +
                         multiplier.tobytes(), capture_output=True, check=True)
    return np.frombuffer(run.stdout, dtype=np.uint8)


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("shape", range(len(SHAPES)))
def test_build_matches_reference(binary, shape, layout):
    c, h, w, kernel, stride, pads = SHAPES[shape]
    case = problem(shape, c, h, w, kernel, stride, pads, clamp=shape % 2 == 1)
    expected = reference.qdwconv(*case.args)
    np.testing.assert_array_equal(
        run_driver(binary, case, LAYOUTS[layout]).reshape(expected.shape), expected)


def test_build_extreme_products(binary):
    case = REGRESSIONS["extreme_products"]
    expected = reference.qdwconv(*case.args)
    np.testing.assert_array_equal(run_driver(binary, case).reshape(expected.shape), expected)
