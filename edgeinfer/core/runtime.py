"""What the compiled core runs with: its thread count, and what it was built
with and detects on this CPU."""
from contextlib import contextmanager

from .loader import core


def set_num_threads(n):
    """Threads the C kernels may use; n <= 0 restores the default
    (EDGEINFER_NUM_THREADS, else OMP_NUM_THREADS, else all cores)."""
    core.set_num_threads(int(n))


def get_num_threads():
    return core.get_num_threads()


def default_threads():
    """The thread count the core runs with when none is set (what set_num_threads(0) restores)."""
    with num_threads(0):
        return core.get_num_threads()


def build_info():
    """What the compiled core was built with and what it runs on this CPU."""
    return {
        "thread_pool": core.threads_enabled(),
        "threads": core.get_num_threads(),
        "simd_detected": core.simd_detected(),
        "simd_active": core.simd_active(),
    }


@contextmanager
def num_threads(n):
    """The core on n threads for the work inside the block, then as it was."""
    before = core.get_num_threads()
    core.set_num_threads(int(n))
    try:
        yield
    finally:
        core.set_num_threads(before)
