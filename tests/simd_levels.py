"""The SIMD levels of the compiled core, for tests that run a kernel on each."""
import contextlib

import pytest

import edgeinfer

SIMD_LEVELS = ("portable", "sse2", "avx2", "avx512", "neon")


def available_levels():
    """The levels this CPU and build can run, portable first."""
    levels = []
    for level in SIMD_LEVELS:
        try:
            edgeinfer._core.simd_force(level)
            levels.append(level)
        except ValueError:
            pass
    edgeinfer._core.simd_force(None)
    return levels


@contextlib.contextmanager
def forced_simd(level):
    """Runs the block with the kernels of `level`; skips the test when this CPU lacks it."""
    try:
        edgeinfer._core.simd_force(level)
    except ValueError:
        pytest.skip(f"{level} is not available on this CPU")
    try:
        yield
    finally:
        edgeinfer._core.simd_force(None)
