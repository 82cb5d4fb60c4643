"""Broadcasting arithmetic: float32 on the C core with the broadcast resolved
at load, other types on numpy's ufuncs writing into the planned buffers."""
import numpy as np

from ...kernels.elementwise import binary_call
from ..errors import unsupported
from ..kernel import FLOAT, Kernel

C_BINARY = {"Add": "add", "Sub": "sub", "Mul": "mul", "Div": "div", "Max": "max", "Min": "min"}

BINARY = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide,
          "Pow": np.power, "Max": np.maximum, "Min": np.minimum}
UNARY = {"Neg": np.negative, "Abs": np.absolute, "Exp": np.exp, "Log": np.log, "Sqrt": np.sqrt,
         "Reciprocal": np.reciprocal, "Floor": np.floor, "Ceil": np.ceil}
NUMERIC = {np.dtype(t) for t in (np.float16, np.float32, np.float64, np.int8, np.int16, np.int32,
                                  np.int64, np.uint8, np.uint16, np.uint32, np.uint64)}


def _c_binary(op):
    def bind(ins, outs):
        return binary_call(op, ins[0], ins[1], outs[0])
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
            return Kernel([shape], [a.dtype], _c_binary(C_BINARY[node.op]))

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
