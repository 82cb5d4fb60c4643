"""2-D convolution with ONNX Conv semantics, in C."""
import numpy as np

from ..core.loader import core as _core
from .buffers import as_float32, output_buffer
from .conv_plan import plan_conv


def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1, activation=None, out=None):
    """ONNX Conv: y = conv(x, w) + b, then the fused activation.

    x: (N, C, H, W); w: (M, C/groups, kh, kw); b: (M,) or None.
    stride, dilation: int or (sh, sw).
    padding: int, (ph, pw), (top, left, bottom, right) in ONNX `pads` order,
        or "valid", "same_upper", "same_lower" (ONNX auto_pad; SAME_LOWER puts
        the odd pixel first).
    groups: any common divisor of C and M; groups == C is depthwise, with a
        channel multiplier M / C.
    activation: None, "relu", "relu6" or a clip range (lo, hi) (None for an
        open side), applied in the same pass that writes the output.
    out: a C-contiguous float32 array of the output shape to write into.

    Computes in float32. float32 C-contiguous inputs are used in place; other
    floating dtypes (float16, float64) and non-contiguous views are converted
    once; integer inputs raise ValueError. Returns (N, M, Ho, Wo) float32.
    """
    x = as_float32(x, "x")
    w = as_float32(w, "w")
    b = None if b is None else as_float32(b, "b")
    plan = plan_conv(x.shape, w.shape, None if b is None else b.shape, stride, padding,
                     dilation, groups, activation)
    out = output_buffer(out, plan.out_shape)
    _core.conv2d(x, w, b, out, plan.strides, plan.dilations, plan.pads, plan.groups, plan.clamp)
    return out
