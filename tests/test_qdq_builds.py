"""The QDQ kernels (csrc/kernels/qdq.c) built the way a Raspberry Pi builds
them — aarch64 with NEON, armv7 with and without NEON — and as plain C and
with clang, run (under qemu for ARM) and compared exactly with the numpy
reference: the vectorised loops, the rounding trick and the unfused sum."""
import subprocess

import numpy as np
import pytest

from cross_builds import BUILDS, build_driver
from edgeinfer import reference
from test_qdq import floats_with_edges

SOURCES = ["kernels/qdq.c", "kernels/u8_transpose.c", "platform/cpu.c", "platform/threads.c",
           "platform/thread_pool.c"]


@pytest.fixture(scope="module", params=sorted(BUILDS))
def binary(request, tmp_path_factory):
    return build_driver(request.param, "qdq_main.c", SOURCES,
                        tmp_path_factory.mktemp(request.param))


def run(binary, args, data):
    return subprocess.run(binary + [str(a) for a in args], input=data, capture_output=True,
                          check=True).stdout


def exact(value):
    return f"{np.float32(value):.9g}"


# 40 000: three chunks of the threaded split, shared between two threads
@pytest.mark.parametrize("n", [0, 1, 37, 1000, 40000])
def test_build_quantize_matches_reference(binary, n):
    x = floats_with_edges(n, n)
    for scale, zero in ((0.05, 128), (1.0, 0), (0.003, 255)):
        got = np.frombuffer(run(binary, ("quantize", n, exact(scale), zero), x.tobytes()),
                            np.uint8)
        np.testing.assert_array_equal(got, reference.quantize_u8(x, np.float32(scale), zero))


@pytest.mark.parametrize("n", [1, 1000, 40000])
def test_build_dequantize_matches_reference(binary, n):
    x = np.random.default_rng(n).integers(0, 256, n, dtype=np.uint8)
    got = np.frombuffer(run(binary, ("dequantize", n, exact(0.0173), 131), x.tobytes()),
                        np.float32)
    np.testing.assert_array_equal(got, reference.dequantize_u8(x, np.float32(0.0173), 131))


@pytest.mark.parametrize("n", [1, 37, 4096, 40000])
def test_build_qadd_matches_reference(binary, n):
    rng = np.random.default_rng(n)
    a, b = (rng.integers(0, 256, n, dtype=np.uint8) for _ in range(2))
    for a_ratio, b_ratio in ((0.1, 0.7), (1 / 3, 2 / 3), (1.7, 0.45), (0.0113, 0.6997)):
        got = np.frombuffer(run(binary, ("qadd", n, 3, exact(a_ratio), 200, exact(b_ratio), 11),
                                a.tobytes() + b.tobytes()), np.uint8)
        np.testing.assert_array_equal(got, reference.qadd_u8(a, 3, np.float32(a_ratio), b, 200,
                                                             np.float32(b_ratio), 11))
