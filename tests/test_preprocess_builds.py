"""The preprocessing kernel built the way a Raspberry Pi builds it — aarch64
with NEON, 32-bit armv7 with and without NEON — and the plain-C path
(-DEI_NO_SIMD), each run on the same frames and compared with the numpy
reference. Cross builds run under qemu-user; each case skips when its
compiler or emulator is not installed (.ci/run installs them)."""
import subprocess

import numpy as np
import pytest

from cross_builds import BUILDS, build_driver
from edgeinfer import reference
from edgeinfer.kernels.frame_plan import RESIZE_MODES

CASES = [  # (frame h, w, channels), (out h, w)
    ((48, 64, 3), (24, 20)),
    ((17, 23, 4), (40, 31)),
    ((30, 41, 1), (9, 13)),
    ((5, 7, 3), (5, 7)),
]


@pytest.fixture(scope="module", params=sorted(BUILDS))
def binary(request, tmp_path_factory):
    return build_driver(request.param, "preprocess_main.c",
                        ["kernels/preprocess.c", "platform/threads.c", "platform/thread_pool.c",
                         "platform/cpu.c"],
                        tmp_path_factory.mktemp(request.param))


@pytest.mark.parametrize("frame_shape,size", CASES)
@pytest.mark.parametrize("resize", RESIZE_MODES)
@pytest.mark.parametrize("layout", ["nchw", "nhwc"])
def test_build_matches_reference(binary, frame_shape, size, resize, layout):
    rng = np.random.default_rng(sum(frame_shape) + sum(size))
    frame = rng.integers(0, 256, size=frame_shape, dtype=np.uint8)
    out_channels = 3 if frame_shape[2] != 1 else 1
    args = [*map(str, frame_shape), *map(str, size), str(out_channels),
            str(RESIZE_MODES.index(resize)), str(["nchw", "nhwc"].index(layout))]
    run = subprocess.run(binary + args, input=frame.tobytes(), capture_output=True, check=True)
    got = np.frombuffer(run.stdout, dtype=np.float32)
    color = "rgb" if out_channels == 3 else "gray"
    expected = reference.preprocess(frame, size=size, resize=resize, color=color, mean=100,
                                    std=50, layout=layout, input_color="bgra" if frame_shape[2] == 4
                                    else "bgr")
    np.testing.assert_allclose(got, expected.ravel(), rtol=0, atol=1e-4)
