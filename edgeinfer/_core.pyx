# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""Thin wrappers over the C kernels in csrc/: take buffers whose shapes and
types the Python layer (edgeinfer.kernels) has already checked, release the
GIL, call C. No model or camera knowledge lives here."""

from libc.stdint cimport uint8_t

cdef extern from "threads.h":
    int ei_threads_enabled()
    int ei_get_num_threads()
    void ei_set_num_threads(int n)
    int ei_threads_for(double items, double work_per_item)
    double ei_set_work_per_thread(double n)

cdef extern from "thread_pool.h":
    double ei_pool_set_spin_us(double us)
    int ei_pool_workers()

cdef extern from "cpu.h":
    ctypedef int ei_simd_level
    ei_simd_level ei_simd_detected()
    ei_simd_level ei_simd_active()
    int ei_simd_force(int level)
    const char *ei_simd_name(ei_simd_level level)

SIMD_LEVELS = ("portable", "sse2", "avx2", "avx512", "neon")


def threads_enabled():
    """False in a build without threads (EDGEINFER_NO_THREADS), where every step runs on one."""
    return bool(ei_threads_enabled())


def set_pool_spin_us(us):
    """How long idle pool workers spin before they sleep (None: the default); returns the last."""
    return ei_pool_set_spin_us(-1.0 if us is None else float(us))


def pool_workers():
    """Worker threads the pool has started (the caller of a step is not one)."""
    return ei_pool_workers()


def get_num_threads():
    return ei_get_num_threads()


def set_num_threads(int n):
    ei_set_num_threads(n)


def set_work_per_thread(n):
    """Work per thread before a step is split (None: default, 0: always); returns the last."""
    return ei_set_work_per_thread(-1.0 if n is None else float(n))


def threads_for(double items, double work_per_item):
    return ei_threads_for(items, work_per_item)


def simd_detected():
    return ei_simd_name(ei_simd_detected()).decode()


def simd_active():
    return ei_simd_name(ei_simd_active()).decode()


def simd_force(name):
    """Force a SIMD level by name; None returns to the detected one."""
    level = -1 if name is None else SIMD_LEVELS.index(name)
    if ei_simd_force(level) != 0:
        raise ValueError(f"this CPU or build cannot run the {name!r} kernels "
                         f"(detected: {simd_detected()})")


include "_preprocess.pxi"

include "_conv2d.pxi"
include "_filter2d.pxi"
include "_pool.pxi"
include "_activation.pxi"
include "_elementwise.pxi"
include "_dense.pxi"
include "_qconv.pxi"
include "_qdwconv.pxi"
include "_qdq.pxi"
include "_qnhwc.pxi"
