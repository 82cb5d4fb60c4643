"""The convolution core (GEMM, im2col, indirect GEMM, plane filter, flat and channel-blocked
depthwise) built the
way a Raspberry Pi builds it — aarch64 with NEON, armv7 with and without NEON
— and as plain C, run on problems that take every path and compared with the
numpy reference. On x86 the tests force each vector unit in process; NEON
can only be run here, under qemu."""
import subprocess

import numpy as np
import pytest

from cross_builds import BUILDS, build_driver
from edgeinfer import reference

SOURCES = ["kernels/conv2d.c", "conv/gemm.c", "conv/im2col.c", "conv/plane_filter.c",
           "conv/depthwise.c", "conv/depthwise_blocked.c", "conv/scratch.c", "platform/cpu.c",
           "platform/threads.c", "platform/thread_pool.c"]

CASES = [  # x shape, w shape, stride, dilation, pads (top, left, bottom, right), groups
    ((1, 3, 17, 19), (8, 3, 3, 3), (2, 2), (1, 1), (1, 1, 1, 1), 1),       # stem-like
    ((2, 16, 9, 11), (24, 16, 1, 1), (1, 1), (1, 1), (0, 0, 0, 0), 1),     # 1x1 in place, tail
    ((1, 40, 7, 7), (13, 40, 1, 1), (2, 2), (1, 1), (0, 0, 0, 0), 1),      # 1x1 strided
    ((1, 400, 5, 6), (10, 400, 3, 3), (1, 1), (1, 1), (1, 1, 1, 1), 1),    # k in several passes
    ((1, 6, 12, 10), (9, 2, 3, 2), (1, 2), (2, 1), (0, 1, 2, 0), 3),       # groups, dilation
    ((1, 8, 14, 14), (8, 1, 5, 5), (1, 1), (1, 1), (2, 2, 2, 2), 8),       # depthwise 5x5
    ((2, 5, 15, 13), (10, 1, 3, 3), (2, 2), (1, 1), (1, 0, 1, 1), 5),      # multiplier, stride 2
    ((1, 4, 1, 40), (4, 1, 1, 5), (1, 3), (1, 2), (0, 4, 0, 4), 4),        # 1-D, stride 3
    ((1, 5, 9, 37), (7, 5, 3, 3), (2, 1), (1, 2), (1, 2, 0, 1), 1),        # dense rows, dilated
    ((2, 6, 1, 50), (8, 6, 1, 5), (1, 1), (1, 1), (0, 2, 0, 2), 1),        # 1-D dense
    ((1, 19, 7, 7), (19, 1, 3, 3), (1, 1), (1, 1), (1, 1, 1, 1), 19),      # depthwise 7x7, 4n+3
    ((1, 12, 14, 14), (12, 1, 5, 5), (2, 2), (1, 1), (1, 1, 2, 2), 12),    # dw 5x5/2, SAME pads
    ((1, 130, 4, 4), (7, 130, 3, 3), (1, 1), (1, 1), (1, 1, 1, 1), 1),     # small map, deep K
    ((1, 24, 7, 7), (19, 24, 1, 1), (1, 1), (1, 1), (0, 0, 0, 0), 1),      # 1x1, 1 column left
    ((1, 900, 3, 5), (11, 900, 1, 1), (1, 1), (1, 1), (0, 0, 0, 0), 1),    # 1x1, 3 left
    ((1, 800, 2, 135), (5, 800, 1, 1), (1, 1), (1, 1), (0, 0, 0, 0), 1),   # 1x1, k chunks
    ((2, 7, 1, 2), (5, 7, 1, 1), (1, 1), (1, 1), (0, 0, 0, 0), 1),         # 1x1 narrower than a vector
]

# (depthwise layout, dense layout, pointwise weights): each forced together (a
# conv takes one of the three kinds); the channel-blocked depthwise also in
# bands of two output rows; the 1x1 weights as given, packed for each call,
# or packed once beforehand
LAYOUTS = {"rows+im2col+in_place": (0, 0, 0), "flat+indirect+packed": (1, 1, 1),
           "blocked+bands+packed": (2, 2, 1), "by shape+prepacked": (-1, -1, 2),
           "blocked in row bands+bands+packed": (3, 2, 1)}


@pytest.fixture(scope="module", params=sorted(BUILDS))
def binary(request, tmp_path_factory):
    return build_driver(request.param, "conv2d_main.c", SOURCES,
                        tmp_path_factory.mktemp(request.param))


@pytest.mark.parametrize("case", range(len(CASES)))
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("relu6", [False, True])
def test_build_matches_reference(binary, case, layout, relu6):
    x_shape, w_shape, stride, dilation, pads, groups = CASES[case]
    rng = np.random.default_rng(case)
    x = rng.standard_normal(x_shape).astype(np.float32) * 2
    w = rng.standard_normal(w_shape).astype(np.float32)
    b = rng.standard_normal(w_shape[0]).astype(np.float32)
    args = [*x_shape, w_shape[0], *w_shape[2:], *stride, *dilation, *pads, groups, int(relu6),
            *LAYOUTS[layout]]
    run = subprocess.run(binary + [str(a) for a in args],
                         input=x.tobytes() + w.tobytes() + b.tobytes(),
                         capture_output=True, check=True)
    expected = reference.conv2d(x, w, b, stride=stride, dilation=dilation, padding=pads,
                                groups=groups, activation="relu6" if relu6 else None)
    got = np.frombuffer(run.stdout, dtype=np.float32).reshape(expected.shape)
    reduction = int(np.prod(w_shape[1:]))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=2e-6 * reduction ** 0.5 * 10)
