"""Conv (1-D and 2-D, every attribute) and a standalone BatchNormalization.
The planner folds most BatchNormalizations into the Conv before them."""
import numpy as np

from ...core.loader import core
from ...kernels.conv_plan import plan_conv
from ...kernels.geometry import onnx_window_arguments
from ..errors import unsupported
from ..kernel import FLOAT, Kernel, require_constant, require_float


def window_arguments(node, spatial, kernel_shape):
    """The public kernels' (kernel, stride, padding, dilation) from the node's
    attributes, a 1-D window lifted to 2-D; `geometry` does the reading."""
    auto_pad = node.attr("auto_pad", "NOTSET")
    try:
        return onnx_window_arguments(spatial, kernel_shape, node.attr("strides"),
                                     node.attr("dilations"), auto_pad, node.attr("pads"))
    except ValueError:
        raise unsupported(f"{node.op} node {node.name!r} with auto_pad={auto_pad!r}") from None


def planned(node, plan, *args, **kwargs):
    """plan(*args, **kwargs), its refusal of the node's attributes said the native way."""
    try:
        return plan(*args, **kwargs)
    except ValueError as error:
        raise unsupported(f"{node.op} node {node.name!r}: {error}") from None


def as_2d(shape):
    """(N, C, L) is run as (N, C, 1, L)."""
    return tuple(shape[:2]) + (1,) * (4 - len(shape)) + tuple(shape[2:])


def make_conv(node, operands, opset):
    x, w = operands[0], operands[1]
    require_float(node, operands)
    spatial = len(x.shape) - 2
    if spatial not in (1, 2):
        raise unsupported(f"Conv node {node.name!r} over {spatial} spatial axes (1-D and 2-D only)")
    groups = int(node.attr("group", 1))
    if x.shape[1] != w.shape[1] * groups or w.shape[0] % groups:
        raise unsupported(f"Conv node {node.name!r}: input {x.shape}, weights {w.shape} and "
                          f"group={groups} do not fit together")
    _, strides, padding, dilations = window_arguments(node, spatial, w.shape[2:])
    plan = planned(node, plan_conv, as_2d(x.shape), as_2d(w.shape), None, strides, padding,
                   dilations, groups)
    shape = plan.out_shape[:2] + plan.out_shape[4 - spatial:]
    strides, dilations, pads = plan.strides, plan.dilations, plan.pads
    clamp = node.attr("_clamp")
    activation = node.attr("_activation")    # set by the rewrite: run in place after the write
    alpha = float(node.attr("_activation_alpha", 0.0))     # LeakyRelu's slope

    def bind(ins, outs):
        # planned buffers and constants are contiguous: these reshapes are views
        x4 = ins[0].reshape(as_2d(ins[0].shape))
        w4 = ins[1].reshape(as_2d(ins[1].shape))
        bias = ins[2] if len(ins) > 2 else None
        out4 = outs[0].reshape(as_2d(outs[0].shape))
        # set by the rewrite: an Add after the Conv, done in the output write
        residual = ins[3].reshape(out4.shape) if len(ins) > 3 else None
        bounds = None if clamp is None else (float(clamp[0]), float(clamp[1]))
        # a 1x1 conv's weights packed once here for the GEMM, not every frame
        pointwise = w4.shape[2:] == (1, 1) and tuple(strides) == (1, 1) and not any(pads) \
            and groups == 1
        packed = core.conv2d_pack_pointwise(w4) if pointwise else None
        # the arguments bound once: a call is the C kernel and nothing else
        conv = core.Conv2dCall(x4, w4, bias, out4, tuple(strides), tuple(dilations), tuple(pads),
                               groups, bounds, residual, packed)
        if activation is None:
            return conv
        kind, flat_out = core.ACTIVATIONS.index(activation), outs[0].reshape(-1)
        apply = core.activation

        def conv_then_activation():
            conv()
            apply(kind, flat_out, flat_out, alpha, 0.0)
        return conv_then_activation

    return Kernel([shape], [FLOAT], bind)


def batchnorm_scale_shift(node, operands):
    """Per-channel (scale, shift) with y = x * scale + shift."""
    if node.attr("training_mode", 0):
        raise unsupported(f"BatchNormalization node {node.name!r} in training mode")
    if len(node.outputs) > 1 and any(node.outputs[1:]):
        raise unsupported(f"BatchNormalization node {node.name!r} with running-statistics outputs")
    gamma, beta, mean, var = (require_constant(node, operands[i], "scale/bias/mean/var")
                              for i in range(1, 5))
    eps = float(node.attr("epsilon", 1e-5))
    scale = gamma.astype(np.float64) / np.sqrt(var.astype(np.float64) + eps)
    shift = beta.astype(np.float64) - mean.astype(np.float64) * scale
    return scale, shift


def make_batchnorm(node, operands, opset):
    x = operands[0]
    require_float(node, operands[:1])
    scale, shift = batchnorm_scale_shift(node, operands)
    channel = (1, -1) + (1,) * (len(x.shape) - 2)
    scale = scale.astype(np.float32).reshape(channel)
    shift = shift.astype(np.float32).reshape(channel)

    def bind(ins, outs):
        src, out = ins[0], outs[0]

        def run():
            np.multiply(src, scale, out=out)
            np.add(out, shift, out=out)
        return run

    return Kernel([x.shape], [FLOAT], bind)


OPS = {"Conv": make_conv, "BatchNormalization": make_batchnorm}
