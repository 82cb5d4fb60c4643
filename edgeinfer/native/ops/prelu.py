"""PRelu (MTCNN's P/R/O-Nets): x where x >= 0, slope * x below, with the slope
broadcast to x as ONNX's unidirectional broadcasting says."""
import numpy as np

from ...kernels.elementwise import binary_call
from ..errors import unsupported
from ..kernel import FLOAT, Kernel, Operand, require_float


def make_prelu(node, operands, opset):
    x, slope = operands
    require_float(node, operands)
    channel_slope = opset < 7 and len(slope.shape) == 1 and len(x.shape) > 1 and \
        slope.shape[0] == x.shape[1]
    if channel_slope:
        # PRelu-6 applied a 1-D slope along the channel axis
        slope = Operand((slope.shape[0],) + (1,) * (len(x.shape) - 2), slope.dtype,
                        None if slope.value is None else slope.value.reshape(
                            (slope.shape[0],) + (1,) * (len(x.shape) - 2)))
    try:
        shape = np.broadcast_shapes(x.shape, slope.shape)
    except ValueError:
        shape = None
    if shape != tuple(x.shape):
        raise unsupported(f"PRelu node {node.name!r}: slope {slope.shape} does not broadcast "
                          f"to the input {x.shape}")

    def bind(ins, outs):
        src, weights, out = ins[0], ins[1].reshape(slope.shape), outs[0]
        if slope.constant and np.all((weights >= 0) & (weights <= 1)):
            # a slope in [0, 1] makes PRelu max(x, slope * x): two passes, no scratch
            scaled = binary_call("mul", src, np.ascontiguousarray(weights), out)

            def run_bounded():
                scaled()
                np.maximum(out, src, out=out)
            return run_bounded
        # below zero as its own buffer, made once: x * slope would need one per run too
        negative = np.empty_like(out)
        # the C core's broadcast walk: numpy's would buffer the per-channel slope every run
        scale_negative = binary_call("mul", negative, weights, negative)

        def run():
            np.minimum(src, np.float32(0), out=negative)
            scale_negative()
            np.maximum(src, np.float32(0), out=out)
            np.add(out, negative, out=out)
        return run

    return Kernel([tuple(x.shape)], [FLOAT], bind)


OPS = {"PRelu": make_prelu}
