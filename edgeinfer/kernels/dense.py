"""Dense (fully connected) layer, float32, in C: x . w + bias."""
import numpy as np

from ..core.loader import core as _core
from .buffers import output_buffer


def dense(x, w, bias=None, out=None):
    """x (rows x k) . w (k x n) + bias (n values or None) -> rows x n."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    w = np.ascontiguousarray(w, dtype=np.float32)
    if x.ndim != 2 or w.ndim != 2 or x.shape[1] != w.shape[0]:
        raise ValueError(f"x must be rows x k and w k x n, got {x.shape} and {w.shape}")
    if bias is not None:
        bias = np.ascontiguousarray(bias, dtype=np.float32).reshape(-1)
    shape = (x.shape[0], w.shape[1])
    out = output_buffer(out, shape)
    _core.dense(x, w, bias, out)
    return out
