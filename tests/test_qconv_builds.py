"""The integer 1x1 convolution built the way a Raspberry Pi builds it —
aarch64 with NEON, armv7 with and without NEON — and as plain C and with
clang, run (under qemu for ARM) and compared exactly with the numpy
reference."""
import subprocess

import numpy as np
import pytest

from cross_builds import BUILDS, build_driver
from edgeinfer import reference
from test_qconv import SHAPES, problem

SOURCES = ["kernels/qconv.c", "kernels/qconv_nhwc.c", "kernels/u8_transpose.c", "platform/cpu.c",
           "platform/threads.c", "platform/thread_pool.c"]


@pytest.fixture(scope="module", params=sorted(BUILDS))
def binary(request, tmp_path_factory):
    return build_driver(request.param, "qconv_main.c", SOURCES,
                        tmp_path_factory.mktemp(request.param))


@pytest.mark.parametrize("layout", [0, 1], ids=["planes", "nhwc"])
@pytest.mark.parametrize("shape", range(len(SHAPES)))
def test_build_matches_reference(binary, shape, layout):
    m, k, h, w, stride = SHAPES[shape]
    x, x_zero, weights, bias, multiplier, y_zero = problem(shape, m, k, h, w)
    lo, hi = 0, max(y_zero, 200)
    run = subprocess.run(binary + [str(a) for a in (m, k, h, w, stride, x_zero, y_zero, lo, hi,
                                                    layout)],
                         input=x.tobytes() + weights.tobytes() + bias.tobytes() +
                         multiplier.tobytes(), capture_output=True, check=True)
    expected = reference.qconv1x1(x, x_zero, weights, bias, multiplier, y_zero, lo, hi, stride)
    got = np.frombuffer(run.stdout, dtype=np.uint8).reshape(expected.shape)
    np.testing.assert_array_equal(got, expected)
