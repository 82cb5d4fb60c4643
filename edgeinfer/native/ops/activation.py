"""Elementwise activations and softmax, on the C core."""
import numpy as np

from ...core.loader import core
from ..kernel import FLOAT, Kernel, flat, normalise_axis, optional_input, require_constant, \
    require_float

KIND = {name: i for i, name in enumerate(core.ACTIVATIONS)}


def _elementwise(kind, alpha=0.0, beta=0.0):
    def make(node, operands, opset):
        x = operands[0]
        require_float(node, operands[:1])

        def bind(ins, outs):
            src, dst = flat(ins[0]), flat(outs[0])
            return lambda: core.activation(kind, src, dst, alpha, beta)

        return Kernel([x.shape], [FLOAT], bind)
    return make


def clip_range(node, operands, opset):
    """(lo, hi) of a Clip node: attributes before opset 11, constant inputs after."""
    if opset < 11:
        return float(node.attr("min", -np.inf)), float(node.attr("max", np.inf))
    bounds = []
    for index, default in ((1, -np.inf), (2, np.inf)):
        operand = optional_input(operands, index)
        bounds.append(default if operand is None else
                      float(require_constant(node, operand, "min/max").reshape(())))
    return tuple(bounds)


def make_clip(node, operands, opset):
    lo, hi = clip_range(node, operands, opset)
    return _elementwise(KIND["clip"], lo, hi)(node, operands, opset)


def make_leaky_relu(node, operands, opset):
    return _elementwise(KIND["leaky_relu"], float(node.attr("alpha", 0.01)))(node, operands, opset)


def make_hard_sigmoid(node, operands, opset):
    return _elementwise(KIND["hard_sigmoid"], float(node.attr("alpha", 0.2)),
                        float(node.attr("beta", 0.5)))(node, operands, opset)


def softmax_blocks(shape, axis, opset):
    """(outer, axis length, inner) for Softmax: before opset 13 the input is
    coerced to 2-D at `axis`, from 13 on the softmax runs along `axis` alone."""
    rank = len(shape)
    axis = normalise_axis(axis, rank)
    outer = int(np.prod(shape[:axis], dtype=np.int64))
    if opset < 13:
        return outer, int(np.prod(shape[axis:], dtype=np.int64)), 1
    return outer, shape[axis], int(np.prod(shape[axis + 1:], dtype=np.int64))


def make_softmax(node, operands, opset):
    x = operands[0]
    require_float(node, operands[:1])
    blocks = softmax_blocks(x.shape, node.attr("axis", 1 if opset < 13 else -1), opset)

    def bind(ins, outs):
        src, dst = ins[0].reshape(blocks), outs[0].reshape(blocks)
        return lambda: core.softmax(src, dst)

    return Kernel([x.shape], [FLOAT], bind)


OPS = {
    "Relu": _elementwise(KIND["relu"]),
    "Sigmoid": _elementwise(KIND["sigmoid"]),
    "HardSwish": _elementwise(KIND["hard_swish"]),
    "Tanh": _elementwise(KIND["tanh"]),
    "Clip": make_clip,
    "LeakyRelu": make_leaky_relu,
    "HardSigmoid": make_hard_sigmoid,
    "Softmax": make_softmax,
}
