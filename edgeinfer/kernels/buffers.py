"""The arrays every kernel wrapper hands to C: float32 inputs converted once,
and an output buffer checked for what C will write into."""
import numpy as np


def as_float32(array, name):
    """Contiguous float32: float32 C-ordered arrays pass through, other real
    floating arrays and non-contiguous views are converted once."""
    array = np.asarray(array)
    if array.dtype.kind != "f":
        raise ValueError(f"{name} must be a floating-point array, got {array.dtype}")
    return np.ascontiguousarray(array, dtype=np.float32)


def output_buffer(out, shape, dtype=np.float32):
    """out, or a new array of shape and dtype (float32; uint8 for the integer
    kernels) when out is None; a ValueError naming what was expected and what
    was given otherwise."""
    dtype = np.dtype(dtype)
    if out is None:
        return np.empty(shape, dtype)
    if not isinstance(out, np.ndarray) or out.dtype != dtype or out.shape != shape \
            or not out.flags.c_contiguous or not out.flags.writeable:
        got = f"{out.dtype} {out.shape}" if isinstance(out, np.ndarray) else type(out).__name__
        if isinstance(out, np.ndarray) and not out.flags.c_contiguous:
            got += ", not C-contiguous"
        elif isinstance(out, np.ndarray) and not out.flags.writeable:
            got += ", read-only"
        raise ValueError(f"out must be a writable C-contiguous {dtype} array of shape {shape}, "
                         f"got {got}")
    return out
