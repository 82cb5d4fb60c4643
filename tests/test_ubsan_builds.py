"""Every build in cross_builds.BUILDS whose compiler takes UBSan stops a C
driver at its first undefined behaviour (trap mode: no runtime library
needed, so under qemu too), which is what lets the kernel drivers in
test_*_builds.py fail on it."""
import subprocess

import pytest

from cross_builds import BUILDS, build_driver, sanitizer_flags

INT_MAX = 2**31 - 1


@pytest.mark.parametrize("name", sorted(BUILDS))
def test_signed_overflow_stops_the_driver(name, tmp_path):
    binary = build_driver(name, "ubsan_trap_main.c", [], tmp_path)
    compiler, flags, _ = BUILDS[name]
    if not sanitizer_flags(tuple(compiler), tuple(flags)):
        pytest.skip(f"{compiler[0]} has no UBSan")
    fine = subprocess.run(binary + ["1"], capture_output=True, text=True)
    assert (fine.returncode, fine.stdout.strip()) == (0, str(INT_MAX))
    overflow = subprocess.run(binary + ["2"], capture_output=True, text=True)
    assert overflow.returncode != 0 and overflow.stdout == "", overflow
