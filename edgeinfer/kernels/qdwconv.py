"""Integer depthwise convolution of QDQ-quantised models, in C: each uint8
channel with its own int8 filter, int32 sums, requantised to uint8 in the
write."""
import numpy as np

from ..core.loader import core as _core
from .buffers import output_buffer
from .quantized_args import check_points, per_channel


def _output_shape(x_shape, w, stride, pads):
    """(c, oh, ow) of a depthwise convolution of planes x_shape (c, h, w)."""
    w_shape = np.shape(w)
    if len(x_shape) != 3 or len(w_shape) != 3 or x_shape[0] != w_shape[0] or not x_shape[0]:
        raise ValueError(f"x must be (c, h, w) and w (c, kh, kw), got {tuple(x_shape)} and "
                         f"{w_shape}")
    c, (kh, kw) = x_shape[0], w_shape[1:]
    if not kh or not kw:
        raise ValueError(f"w must be (c, kh, kw) with kh, kw >= 1, got {w_shape}")
    top, left, bottom, right = (int(p) for p in pads)
    if min(top, left, bottom, right) < 0 or stride < 1:
        raise ValueError(f"pads must be >= 0 and stride >= 1, got {tuple(pads)} and {stride}")
    shape = (c, (x_shape[1] + top + bottom - kh) // stride + 1,
             (x_shape[2] + left + right - kw) // stride + 1)
    if min(shape) < 1:
        raise ValueError(f"a {kh}x{kw} filter does not fit the padded input of x {tuple(x_shape)}")
    return shape


def qdwconv(x, x_zero, w, bias, multiplier, y_zero, lo=0, hi=255, stride=1, pads=(0, 0, 0, 0),
            out=None):
    """x (c, h, w) uint8, w (c, kh, kw) int8, bias (c) int32 or None, multiplier
    (c) float32, pads (top, left, bottom, right) -> (c, oh, ow) uint8 with
    out = clip(rint(float32(bias + sum w (x - x_zero)) * multiplier) + y_zero, lo, hi),
    ties rounded to even; padded positions hold x_zero (they add nothing)."""
    x = np.ascontiguousarray(x, dtype=np.uint8)
    shape = _output_shape(x.shape, w, stride, pads)
    w = np.ascontiguousarray(w, dtype=np.int8)
    c = x.shape[0]
    multiplier, bias = per_channel(multiplier, bias, c)
    check_points(x_zero, y_zero, lo, hi)
    top, left = (int(p) for p in pads[:2])
    out = output_buffer(out, shape, np.uint8)
    _core.qdwconv(x, int(x_zero), w, bias, multiplier, int(y_zero), int(lo), int(hi),
                  int(stride), top, left, out)
    return out


def qdwconv_nhwc(x, x_zero, w, bias, multiplier, y_zero, lo=0, hi=255, stride=1,
                 pads=(0, 0, 0, 0), out=None):
    """qdwconv channels-last: x (h, w, c) uint8 -> (oh, ow, c) uint8, the same
    values transposed."""
    x = np.ascontiguousarray(x, dtype=np.uint8)
    planes_shape = (x.shape[2],) + x.shape[:2] if x.ndim == 3 else x.shape
    shape = _output_shape(planes_shape, w, stride, pads)
    shape = (shape[1], shape[2], shape[0])
    w = np.ascontiguousarray(w, dtype=np.int8)
    c = x.shape[2]
    multiplier, bias = per_channel(multiplier, bias, c)
    check_points(x_zero, y_zero, lo, hi)
    out = output_buffer(out, shape, np.uint8)
    top, left = (int(p) for p in pads[:2])
    _core.qdwconv_nhwc_packed(x, int(x_zero), _core.qdwconv_nhwc_pack(w, bias, multiplier),
                              int(y_zero), int(lo), int(hi), int(stride), top, left, out)
    return out
