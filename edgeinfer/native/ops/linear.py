"""Gemm and MatMul. With constant weights (a classifier's dense layers) they
run on the C core's dense kernel with the bias fused and the core's thread
count; otherwise numpy's matmul writes into the planned buffer."""
import numpy as np

from ...core.loader import core
from ..errors import unsupported
from ..kernel import FLOAT, Kernel, optional_input, require_float


def matmul_shape(node, a, b):
    left = (1,) + a if len(a) == 1 else a
    right = b + (1,) if len(b) == 1 else b
    if left[-1] != right[-2]:
        raise unsupported(f"MatMul node {node.name!r} of shapes {a} and {b}")
    shape = np.broadcast_shapes(left[:-2], right[:-2]) + (left[-2], right[-1])
    if len(a) == 1:
        shape = shape[:-2] + shape[-1:]
    if len(b) == 1:
        shape = shape[:-1]
    return tuple(shape)


def dense_call(x, weights, bias, out):
    """out (rows x N) = x (rows x K) . weights (K x N) + bias."""
    w = np.ascontiguousarray(weights, dtype=np.float32)
    b = None if bias is None else np.ascontiguousarray(bias, dtype=np.float32).reshape(-1)
    dense = core.dense
    return lambda: dense(x, w, b, out)


def make_matmul(node, operands, opset):
    a, b = operands
    require_float(node, operands)
    shape = matmul_shape(node, a.shape, b.shape)
    if b.constant and len(b.shape) == 2 and len(a.shape) >= 2:
        def bind_dense(ins, outs):
            return dense_call(ins[0].reshape(-1, b.shape[0]), ins[1], None,
                              outs[0].reshape(-1, b.shape[1]))
        return Kernel([shape], [FLOAT], bind_dense)

    def bind(ins, outs):
        x, y, out = ins[0], ins[1], outs[0]
        return lambda: np.matmul(x, y, out=out)

    return Kernel([shape], [FLOAT], bind)


def make_gemm(node, operands, opset):
    a, b = operands[0], operands[1]
    c = optional_input(operands, 2)
    require_float(node, operands)
    alpha, beta = float(node.attr("alpha", 1.0)), float(node.attr("beta", 1.0))
    trans_a, trans_b = bool(node.attr("transA", 0)), bool(node.attr("transB", 0))
    m = a.shape[1] if trans_a else a.shape[0]
    n = b.shape[0] if trans_b else b.shape[1]
    shape = (m, n)
    if c is not None:
        np.broadcast_shapes(c.shape, shape)
    row_bias = c is None or beta == 0.0 or (c.constant and (len(c.shape) < 2 or c.shape[0] == 1))
    if b.constant and not trans_a and row_bias:
        def bind_dense(ins, outs):
            weights = (ins[1].T if trans_b else ins[1]) * np.float32(alpha)
            bias = None
            if c is not None and beta != 0.0:
                bias = np.broadcast_to(ins[2] * np.float32(beta), (1, n))[0]
            return dense_call(ins[0], weights, bias, outs[0])
        return Kernel([shape], [FLOAT], bind_dense)

    def bind(ins, outs):
        x = ins[0].T if trans_a else ins[0]
        out = outs[0]
        if b.constant:
            weights = np.ascontiguousarray((ins[1].T if trans_b else ins[1]) * np.float32(alpha))
            scale = 1.0
        else:
            weights = ins[1].T if trans_b else ins[1]
            scale = alpha
        addend = None
        if c is not None and beta != 0.0:
            addend = ins[2] if beta == 1.0 and not c.constant else None
            if c.constant:
                addend = np.ascontiguousarray(np.broadcast_to(ins[2] * np.float32(beta), shape))
            elif beta != 1.0:
                live_c = ins[2]

                def run_scaled_c():
                    np.matmul(x, weights, out=out)
                    if scale != 1.0:
                        np.multiply(out, np.float32(scale), out=out)
                    # runtime C with beta != 1: rare enough to allocate for
                    np.add(out, np.float32(beta) * live_c, out=out)
                return run_scaled_c

        def run():
            np.matmul(x, weights, out=out)
            if scale != 1.0:
                np.multiply(out, np.float32(scale), out=out)
            if addend is not None:
                np.add(out, addend, out=out)
        return run

    return Kernel([shape], [FLOAT], bind)


OPS = {"MatMul": make_matmul, "Gemm": make_gemm}
