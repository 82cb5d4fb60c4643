"""2-D max and average pooling (ONNX MaxPool / AveragePool semantics) and
global average pooling, NCHW float32, in C."""
import numpy as np

from ..core.loader import core as _core
from .buffers import output_buffer
from .conv_plan import positive_pair as _pair


def _pads(padding):
    pads = (padding,) * 4 if np.isscalar(padding) else tuple(padding)
    if len(pads) == 2:
        pads = pads + pads
    if len(pads) != 4 or min(pads) < 0:
        raise ValueError(f"padding must be an int, (vertical, horizontal) or (top, left, bottom, "
                         f"right), all >= 0, got {padding!r}")
    return tuple(int(p) for p in pads)


def pool_output_size(size, kernel, stride, dilation, pad_begin, pad_end, ceil_mode):
    """ONNX's output length; in ceil mode a last window that would start in
    the end padding is dropped (as PyTorch and onnxruntime do)."""
    span = size + pad_begin + pad_end - ((kernel - 1) * dilation + 1)
    if span < 0:
        return 0
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + pad_begin:
        out -= 1
    return out


def _pool(average, x, kernel, stride, padding, dilation, ceil_mode, count_include_pad, out):
    x = np.ascontiguousarray(x, dtype=np.float32)
    if x.ndim != 4:
        raise ValueError(f"x must be N x C x H x W, got shape {x.shape}")
    kernel, stride, dilation = _pair(kernel, "kernel"), _pair(stride, "stride"), \
        _pair(dilation, "dilation")
    pads = _pads(padding)
    n, c, h, w = x.shape
    shape = (n, c, pool_output_size(h, kernel[0], stride[0], dilation[0], pads[0], pads[2],
                                    ceil_mode),
             pool_output_size(w, kernel[1], stride[1], dilation[1], pads[1], pads[3], ceil_mode))
    out = output_buffer(out, shape)
    if out.size and x.size:
        _core.pool2d(average, x.reshape(n * c, h, w), out.reshape(n * c, *shape[2:]), kernel,
                     stride, dilation, pads, bool(count_include_pad))
    return out


def max_pool2d(x, kernel, stride=1, padding=0, dilation=1, ceil_mode=False, out=None):
    """padding: int, (vertical, horizontal) or (top, left, bottom, right)."""
    return _pool(False, x, kernel, stride, padding, dilation, ceil_mode, False, out)


def avg_pool2d(x, kernel, stride=1, padding=0, dilation=1, ceil_mode=False,
               count_include_pad=False, out=None):
    return _pool(True, x, kernel, stride, padding, dilation, ceil_mode, count_include_pad, out)


def global_avg_pool(x, out=None):
    """Mean of each plane of N x C x ... -> N x C x 1 x ... x 1."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    if x.ndim < 3 or x.size == 0:
        raise ValueError(f"x must be N x C x spatial... and not empty, got shape {x.shape}")
    shape = x.shape[:2] + (1,) * (x.ndim - 2)
    out = output_buffer(out, shape)
    planes = x.shape[0] * x.shape[1]
    _core.global_avg_pool(x.reshape(planes, -1), out.reshape(planes))
    return out
