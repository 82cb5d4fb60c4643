"""Broadcasting float32 arithmetic (ONNX Add, Sub, Mul, Div, Max, Min), in C."""
import numpy as np

from ..core.loader import core as _core
from .buffers import output_buffer

BINARY_OPS = _core.BINARY_OPS


def broadcast_walk(out_shape, a_shape, b_shape):
    """(shape, a strides, b strides) in elements for reading contiguous a and b
    broadcast to out_shape, with length-1 axes dropped and neighbouring axes
    merged wherever both operands continue across them, so that the last
    axis is as long as it can be."""
    rank = len(out_shape)

    def strides(shape):
        shape = (1,) * (rank - len(shape)) + tuple(shape)
        result, step = [], 1
        for dim in reversed(shape):
            result.append(0 if dim == 1 else step)
            step *= dim
        return result[::-1]

    axes = [axis for axis in zip(out_shape, strides(a_shape), strides(b_shape)) if axis[0] != 1]
    merged = [axes[0]] if axes else [(1, 0, 0)]
    for n, sa, sb in axes[1:]:
        last_n, last_a, last_b = merged[-1]
        if last_a == sa * n and last_b == sb * n:
            merged[-1] = (last_n * n, sa, sb)
        else:
            merged.append((n, sa, sb))
    shape, a_strides, b_strides = zip(*merged)
    return list(shape), list(a_strides), list(b_strides)


def binary_call(op, a, b, out):
    """A call with no arguments that computes out = a op b; a, b, out
    contiguous float32, out of the broadcast shape. Resolve once, call often."""
    walk = broadcast_walk(out.shape, a.shape, b.shape)
    if out.size == 0:
        return lambda: None
    return _core.BinaryCall(BINARY_OPS.index(op), *walk, a.reshape(-1), b.reshape(-1),
                            out.reshape(-1))


def binary(op, a, b, out=None):
    """a op b with numpy broadcasting; op one of BINARY_OPS."""
    if op not in BINARY_OPS:
        raise ValueError(f"op must be one of {BINARY_OPS}, got {op!r}")
    a = np.asarray(a, dtype=np.float32, order="C")  # keeps a 0-d operand 0-d
    b = np.asarray(b, dtype=np.float32, order="C")
    shape = np.broadcast_shapes(a.shape, b.shape)
    if len(shape) > 8:
        raise ValueError(f"binary: at most 8 axes, got {len(shape)} (shape {shape})")
    out = output_buffer(out, shape)
    binary_call(op, a, b, out)()
    return out
