"""Max and average pooling built the way a Raspberry Pi builds them — aarch64
with NEON, armv7 with and without NEON — and as plain C and with clang, run
(under qemu for ARM) on shapes that reach every vector width and its last,
overlapping vector, with NaNs and ceil-mode windows, and compared with the
numpy reference."""
import subprocess

import numpy as np
import pytest

from cross_builds import BUILDS, build_driver
from edgeinfer import reference
from edgeinfer.kernels.geometry import plan_window

SOURCES = ["kernels/pool.c", "conv/scratch.c", "platform/cpu.c", "platform/threads.c",
           "platform/thread_pool.c"]

SHAPES = [  # planes, h, w, kernel, stride, padding, dilation, ceil mode
    (16, 60, 60, (3, 3), (2, 2), "same_upper", (1, 1), False),   # mini-Xception's MaxPool
    (128, 8, 8, (3, 3), (2, 2), "same_upper", (1, 1), False),    # its last, 4x4 out
    (3, 13, 37, (5, 5), (1, 1), (2, 2, 2, 2), (1, 1), False),    # SPPF-like, stride 1
    (2, 9, 19, (2, 3), (3, 2), (1, 0, 1, 2), (2, 1), True),      # dilated, ceil mode
    (4, 5, 3, (1, 1), (1, 1), 0, (1, 1), False),                 # narrower than any vector
]


@pytest.fixture(scope="module", params=sorted(BUILDS))
def binary(request, tmp_path_factory):
    return build_driver(request.param, "pool_main.c", SOURCES,
                        tmp_path_factory.mktemp(request.param))


@pytest.mark.parametrize("shape", range(len(SHAPES)))
@pytest.mark.parametrize("average", [False, True])
def test_build_matches_reference(binary, shape, average):
    planes, h, w, kernel, stride, padding, dilation, ceil_mode = SHAPES[shape]
    rng = np.random.default_rng(shape)
    x = rng.standard_normal((1, planes, h, w)).astype(np.float32)
    if not average:
        x[rng.random(x.shape) < 0.02] = np.nan
    window = plan_window((h, w), kernel, stride, padding, dilation, ceil_mode)
    args = [int(average), planes, h, w, *window.out_hw, *window.kernel, *window.strides,
            *window.dilations, *window.pads, 0]
    run = subprocess.run(binary + [str(a) for a in args], input=x.tobytes(),
                         capture_output=True, check=True)
    pool = reference.avg_pool2d if average else reference.max_pool2d
    expected = pool(x, kernel, stride, padding, dilation, ceil_mode)
    got = np.frombuffer(run.stdout, dtype=np.float32).reshape(expected.shape)
    if average:
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    else:
        np.testing.assert_array_equal(got, expected)
