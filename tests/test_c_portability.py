"""The whole C core compiles warning-free as plain C99 for every target we
ship to: the host compilers, 64-bit ARM (NEON path), 32-bit ARM without and
with NEON, and with the vector units switched off (the portable path).
Compilers that are not installed are skipped."""
import glob
import os
import shutil
import subprocess

import pytest

from cross_builds import CSRC, INCLUDES

STRICT = ["-std=c99", "-O2", "-ffp-contract=fast", "-Wall", "-Wextra", "-Werror"]

TARGETS = {
    "gcc": ["gcc"],
    "gcc-no-threads": ["gcc", "-DEI_NO_THREADS"],
    "gcc-portable": ["gcc", "-DEI_NO_SIMD"],
    "clang": ["clang"],
    "aarch64-neon": ["aarch64-linux-gnu-gcc"],
    "armv7-portable": ["arm-linux-gnueabihf-gcc"],
    "armv7-neon": ["arm-linux-gnueabihf-gcc", "-mfpu=neon-vfpv4"],
}


@pytest.mark.parametrize("target", TARGETS)
def test_core_compiles_strict_c99(target, tmp_path):
    command = TARGETS[target]
    if shutil.which(command[0]) is None:
        pytest.skip(f"{command[0]} is not installed")
    sources = sorted(glob.glob(os.path.join(CSRC, "*", "*.c")))
    assert sources
    # one compiler run for every file; the objects land in tmp_path
    result = subprocess.run(command + STRICT + INCLUDES + ["-c"] + sources, cwd=tmp_path,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert len(list(tmp_path.glob("*.o"))) == len(sources)
