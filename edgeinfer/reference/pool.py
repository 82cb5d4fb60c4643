"""Numpy twins of edgeinfer.kernels.pool: each window gathered and reduced
plainly, one output value at a time."""
import numpy as np

from ..kernels.pool import _pads, _pair, pool_output_size


def _pool(reduce, x, kernel, stride, padding, dilation, ceil_mode, count_include_pad):
    x = np.asarray(x, np.float32)
    (kh, kw), (sh, sw), (dh, dw) = _pair(kernel, "kernel"), _pair(stride, "stride"), \
        _pair(dilation, "dilation")
    top, left, bottom, right = _pads(padding)
    n, c, h, w = x.shape
    oh = pool_output_size(h, kh, sh, dh, top, bottom, ceil_mode)
    ow = pool_output_size(w, kw, sw, dw, left, right, ceil_mode)
    out = np.empty((n, c, oh, ow), np.float32)
    for i in range(oh):
        for j in range(ow):
            rows = [i * sh - top + a * dh for a in range(kh)]
            cols = [j * sw - left + b * dw for b in range(kw)]
            inside_rows = [r for r in rows if 0 <= r < h]
            inside_cols = [q for q in cols if 0 <= q < w]
            window = x[:, :, inside_rows][:, :, :, inside_cols].reshape(n, c, -1)
            if reduce == "max":
                out[:, :, i, j] = window.max(axis=2) if window.shape[2] else -np.inf
                continue
            if count_include_pad:
                count = sum(-top <= r < h + bottom for r in rows) * \
                    sum(-left <= q < w + right for q in cols)
            else:
                count = window.shape[2]
            out[:, :, i, j] = window.sum(axis=2, dtype=np.float64) / count if count else np.nan
    return out


def max_pool2d(x, kernel, stride=1, padding=0, dilation=1, ceil_mode=False, out=None):
    result = _pool("max", x, kernel, stride, padding, dilation, ceil_mode, False)
    if out is not None:
        out[...] = result
        return out
    return result


def avg_pool2d(x, kernel, stride=1, padding=0, dilation=1, ceil_mode=False,
               count_include_pad=False, out=None):
    result = _pool("mean", x, kernel, stride, padding, dilation, ceil_mode, count_include_pad)
    if out is not None:
        out[...] = result
        return out
    return result


def global_avg_pool(x, out=None):
    x = np.asarray(x, np.float32)
    axes = tuple(range(2, x.ndim))
    result = x.mean(axis=axes, keepdims=True, dtype=np.float64).astype(np.float32)
    if out is not None:
        out[...] = result
        return out
    return result
