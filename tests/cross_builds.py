"""Builds a C driver in tests/c together with kernels from csrc/ the way a
Raspberry Pi builds them — aarch64 with NEON, 32-bit armv7 with and without
NEON — and for the host's plain-C path and clang, and says how to run it
(under qemu-user for the ARM builds). A build whose compiler or emulator is
not installed skips (.ci/run installs them).

Every build has UndefinedBehaviorSanitizer where its compiler takes it, in
trap mode: undefined behaviour stops the driver at once (SIGILL/SIGTRAP) and
the test fails, and no sanitizer runtime library is needed, which the cross
toolchains do not all have."""
import functools
import glob
import os
import shutil
import subprocess
import tempfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CSRC = os.path.join(ROOT, "csrc")
# every folder of csrc/ is an include directory, as in setup.py
CSRC_DIRS = sorted(glob.glob(os.path.join(CSRC, "*", "")))
INCLUDES = [flag for folder in CSRC_DIRS for flag in ("-I", folder)]

BUILDS = {  # name: (compiler, flags, emulator)
    "host-portable": (["cc"], ["-DEI_NO_SIMD"], None),
    "host-clang": (["clang"], [], None),
    "aarch64-neon": (["aarch64-linux-gnu-gcc"], ["-static"], "qemu-aarch64"),
    "armv7-portable": (["arm-linux-gnueabihf-gcc"], ["-static"], "qemu-arm"),
    "armv7-neon": (["arm-linux-gnueabihf-gcc"], ["-static", "-mfpu=neon-vfpv4"], "qemu-arm"),
}

UBSAN = ["-fsanitize=undefined", "-fsanitize-undefined-trap-on-error"]


@functools.lru_cache(maxsize=None)
def sanitizer_flags(compiler, flags):
    """UBSAN when `compiler` with `flags` builds a program with it, else []."""
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "probe.c")
        with open(src, "w") as f:
            f.write("int main(int argc, char **argv) { (void)argv; return argc + 1 < 0; }\n")
        cmd = list(compiler) + list(flags) + UBSAN + [src, "-o", os.path.join(tmp, "probe")]
        built = subprocess.run(cmd, capture_output=True).returncode == 0
    return UBSAN if built else []


def build_driver(name, driver, sources, out_dir):
    """The command that runs tests/c/<driver> built as BUILDS[name] with the
    csrc/ files in `sources` (paths under csrc/); skips the test when the toolchain is missing."""
    compiler, flags, emulator = BUILDS[name]
    if shutil.which(compiler[0]) is None:
        pytest.skip(f"{compiler[0]} is not installed")
    if emulator and shutil.which(emulator) is None:
        pytest.skip(f"{emulator} is not installed")
    out = os.path.join(str(out_dir), os.path.splitext(driver)[0])
    flags = flags + sanitizer_flags(tuple(compiler), tuple(flags))
    cmd = compiler + ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror"] + INCLUDES + flags + \
        [os.path.join(ROOT, "tests", "c", driver)] + \
        [os.path.join(CSRC, source) for source in sources] + ["-lm", "-pthread", "-o", out]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return ([emulator] if emulator else []) + [out]
