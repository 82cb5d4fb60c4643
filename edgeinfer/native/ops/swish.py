"""Swish / SiLU, x * sigmoid(x): ONNX's Swish operator with alpha 1, and the
Sigmoid-Mul pair exporters write for torch's nn.SiLU (rewritten into one
Swish at load). One pass of the C core's silu activation."""
from ...core.loader import core
from ..errors import unsupported
from ..kernel import FLOAT, Kernel, flat, require_float

SILU = core.ACTIVATIONS.index("silu")


def make_swish(node, operands, opset):
    x = operands[0]
    require_float(node, operands[:1])
    if float(node.attr("alpha", 1.0)) != 1.0:
        raise unsupported(f"Swish node {node.name!r} with alpha={node.attr('alpha')} (1 only)")

    def bind(ins, outs):
        src, dst = flat(ins[0]), flat(outs[0])
        activation = core.activation
        return lambda: activation(SILU, src, dst, 0.0, 0.0)

    return Kernel([x.shape], [FLOAT], bind)


OPS = {"Swish": make_swish}
