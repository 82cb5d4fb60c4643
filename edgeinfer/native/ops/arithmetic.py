"""Broadcasting arithmetic: float32 on the C core with the broadcast resolved
at load, other types on numpy's ufuncs writing into the planned buffers."""
import numpy as np

from ... import _native
from ..errors import unsupported
from ..kernel import FLOAT, Kernel, flat

core = _native.core
C_BINARY = {"Add": "add", "Sub": "sub", "Mul": "mul", "Div": "div", "Max": "max", "Min": "min"}

BINARY = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide,
          "Pow": np.power, "Max": np.maximum, "Min": np.minimum}
UNARY = {"Neg": np.negative, "Abs": np.absolute, "Exp": np.exp, "Log": np.log, "Sqrt": np.sqrt,
         "Reciprocal": np.reciprocal, "Floor": np.floor, "Ceil": np.ceil}
NUMERIC = {np.dtype(t) for t in (np.float16, np.float32, np.float64, np.int8, np.int16, np.int32,
                                  np.int64, np.uint8, np.uint16, np.uint32, np.uint64)}


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


def _c_binary(op, shape, a_shape, b_shape):
    walk = broadcast_walk(shape, a_shape, b_shape)
    code = core.BINARY_OPS.index(op)

    def bind(ins, outs):
        if outs[0].size == 0:
            return lambda: None
        return core.BinaryCall(code, *walk, flat(ins[0]), flat(ins[1]), flat(outs[0]))
    return bind


def _binary(ufunc):
    def make(node, operands, opset):
        a, b = operands
        if a.dtype != b.dtype or a.dtype not in NUMERIC:
            raise unsupported(f"{node.op} node {node.name!r} on {a.dtype}/{b.dtype} tensors")
        if a.dtype != FLOAT and node.op in ("Div", "Pow"):
            # integer Div truncates in ONNX but floors in numpy
            raise unsupported(f"{node.op} node {node.name!r} on {a.dtype} tensors")
        shape = np.broadcast_shapes(a.shape, b.shape)
        if a.dtype == FLOAT and node.op in C_BINARY and len(shape) <= 8:
            return Kernel([shape], [a.dtype], _c_binary(C_BINARY[node.op], shape, a.shape,
                                                        b.shape))

        def bind(ins, outs):
            x, y, out = ins[0], ins[1], outs[0]
            return lambda: ufunc(x, y, out=out)

        return Kernel([shape], [a.dtype], bind)
    return make


def _variadic(ufunc):
    """Max and Min take one or more inputs: folded pairwise into the output."""
    def make(node, operands, opset):
        dtypes = {o.dtype for o in operands}
        if len(dtypes) != 1 or operands[0].dtype not in NUMERIC:
            raise unsupported(f"{node.op} node {node.name!r} on {'/'.join(map(str, dtypes))} "
                              "tensors")
        if len(operands) == 1:
            return Kernel([operands[0].shape], [operands[0].dtype], view_of=0)
        shape = np.broadcast_shapes(*(o.shape for o in operands))

        def bind(ins, outs):
            first, second, rest, out = ins[0], ins[1], ins[2:], outs[0]

            def run():
                ufunc(first, second, out=out)
                for other in rest:
                    ufunc(out, other, out=out)
            return run

        return Kernel([shape], [operands[0].dtype], bind)
    return make


def _unary(ufunc):
    def make(node, operands, opset):
        x = operands[0]
        if x.dtype != FLOAT:
            raise unsupported(f"{node.op} node {node.name!r} on {x.dtype} tensors")

        def bind(ins, outs):
            src, out = ins[0], outs[0]
            return lambda: ufunc(src, out=out)

        return Kernel([x.shape], [FLOAT], bind)
    return make


OPS = {op: (_variadic(f) if op in ("Max", "Min") else _binary(f)) for op, f in BINARY.items()}
OPS.update({op: _unary(f) for op, f in UNARY.items()})
