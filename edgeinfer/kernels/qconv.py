"""Integer 1x1 convolution of QDQ-quantised models, in C: uint8 activations x
int8 weights, int32 sums, requantised to uint8 in the write."""
import numpy as np

from ..core.loader import core as _core
from .buffers import output_buffer
from .quantized_args import check_points, per_channel


def qconv1x1(x, x_zero, w, bias, multiplier, y_zero, lo=0, hi=255, stride=1, out=None):
    """x (k, h, w) uint8, w (m, k) int8, bias (m) int32 or None, multiplier (m)
    float32 -> (m, ceil(h / stride), ceil(w / stride)) uint8 with
    out = clip(rint(float32(bias + sum w (x - x_zero)) * multiplier) + y_zero, lo, hi),
    ties rounded to even."""
    x = np.ascontiguousarray(x, dtype=np.uint8)
    w = np.ascontiguousarray(w, dtype=np.int8)
    if x.ndim != 3 or w.ndim != 2 or x.shape[0] != w.shape[1] or not x.shape[0]:
        raise ValueError(f"x must be (k, h, w) and w (m, k), got {x.shape} and {w.shape}")
    m = w.shape[0]
    multiplier, bias = per_channel(multiplier, bias, m)
    check_points(x_zero, y_zero, lo, hi)
    shape = (m, -(-x.shape[1] // stride), -(-x.shape[2] // stride))
    out = output_buffer(out, shape, np.uint8)
    if out.size:
        _core.qconv1x1(x, int(x_zero), w, bias, multiplier, int(y_zero), int(lo), int(hi),
                       int(stride), out)
    return out


def qconv1x1_nhwc(x, x_zero, w, bias, multiplier, y_zero, lo=0, hi=255, stride=1, out=None):
    """qconv1x1 channels-last: x (h, w, k) uint8 -> (ceil(h / stride),
    ceil(w / stride), m) uint8, the same values transposed."""
    x = np.ascontiguousarray(x, dtype=np.uint8)
    w = np.ascontiguousarray(w, dtype=np.int8)
    if x.ndim != 3 or w.ndim != 2 or x.shape[2] != w.shape[1] or not x.shape[2]:
        raise ValueError(f"x must be (h, w, k) and w (m, k), got {x.shape} and {w.shape}")
    m = w.shape[0]
    multiplier, bias = per_channel(multiplier, bias, m)
    check_points(x_zero, y_zero, lo, hi)
    shape = (-(-x.shape[0] // stride), -(-x.shape[1] // stride), m)
    out = output_buffer(out, shape, np.uint8)
    if out.size:
        packed = _core.qconv1x1_nhwc_pack(w, bias, int(x_zero), multiplier)
        _core.qconv1x1_nhwc(x, packed, int(y_zero), int(lo), int(hi), int(stride), out)
    return out
