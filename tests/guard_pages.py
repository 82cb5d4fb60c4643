"""Arrays whose memory ends (or begins) exactly at an unmapped page.

A kernel that reads one byte before or past an array's memory usually gets
away with it: the neighbouring bytes belong to the same heap block. Placed
against a PROT_NONE page, the same read is a SIGSEGV, so a property test over
such arrays turns a silent overread into a failure. Each copy keeps the view's
shape and strides (negative, zero, transposed, sliced), so the kernel sees
exactly the addressing the caller's view had.
"""
import ctypes
import mmap

import numpy as np

PAGE = mmap.PAGESIZE
_libc = ctypes.CDLL(None, use_errno=True)
_libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
PROT_NONE = 0


def extent(shape, strides, itemsize):
    """(lowest, end) byte offsets of a strided array's memory relative to its
    first element: every element lies in [lowest, end)."""
    low = sum(min(0, s * (n - 1)) for n, s in zip(shape, strides))
    high = sum(max(0, s * (n - 1)) for n, s in zip(shape, strides))
    return low, high + itemsize


def guarded_like(view, side="end"):
    """A copy of `view` with the same shape, dtype, strides and values, whose
    lowest byte follows an unmapped page (side="start") or whose highest byte
    precedes one (side="end")."""
    view = np.asarray(view)
    if view.size == 0:
        return view.copy()
    low, end = extent(view.shape, view.strides, view.itemsize)
    span = end - low
    pages = -(-span // PAGE)
    memory = mmap.mmap(-1, (pages + 1) * PAGE)
    anchor = ctypes.c_char.from_buffer(memory)
    address = ctypes.addressof(anchor)
    del anchor  # the address stays valid for as long as `memory` lives
    guard = address + (pages * PAGE if side == "end" else 0)
    if _libc.mprotect(guard, PAGE, PROT_NONE) != 0:
        raise OSError(ctypes.get_errno(), "mprotect failed")
    data_start = pages * PAGE - span if side == "end" else PAGE
    copy = np.ndarray(view.shape, view.dtype, buffer=memory, offset=data_start - low,
                      strides=view.strides)
    # every element is written through the same strides; elements that share
    # memory (a zero stride) share their value in `view` too
    copy[...] = view
    if not view.flags.writeable:
        copy.flags.writeable = False
    return copy


def guarded_output(shape, dtype, side="end"):
    """A C-contiguous array to write into, against an unmapped page."""
    return guarded_like(np.zeros(shape, dtype), side)
