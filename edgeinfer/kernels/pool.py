"""2-D max and average pooling (ONNX MaxPool / AveragePool semantics) and
global average pooling, NCHW float32, in C."""
import numpy as np

from ..core.loader import core as _core
from .buffers import output_buffer
from .geometry import plan_window


def _pool(average, x, kernel, stride, padding, dilation, ceil_mode, count_include_pad, out):
    x = np.ascontiguousarray(x, dtype=np.float32)
    if x.ndim != 4:
        raise ValueError(f"x must be N x C x H x W, got shape {x.shape}")
    n, c, h, w = x.shape
    window = plan_window((h, w), kernel, stride, padding, dilation, ceil_mode)
    out = output_buffer(out, (n, c) + window.out_hw)
    if out.size and x.size:
        _core.pool2d(average, x.reshape(n * c, h, w), out.reshape(n * c, *window.out_hw),
                     window.kernel, window.strides, window.dilations, window.pads,
                     bool(count_include_pad))
    return out


def max_pool2d(x, kernel, stride=1, padding=0, dilation=1, ceil_mode=False, out=None):
    """padding: int, (vertical, horizontal), (top, left, bottom, right) or an
    auto_pad mode ('valid', 'same_upper', 'same_lower')."""
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
