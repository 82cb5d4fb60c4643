"""Numpy twins of edgeinfer.kernels.pool: each window gathered and reduced
plainly, one output value at a time. The windows are counted one by one
here, not taken from the kernels' geometry, so the two check each other;
only the argument checks are shared, so both refuse the same arguments."""
import numpy as np

from ..kernels.geometry import positive_pair


def _pair(value):
    return (value, value) if np.isscalar(value) else tuple(value)


def _same_pads(size, span, stride, lower):
    """ONNX auto_pad SAME: ceil(size / stride) outputs, the odd pad at the end
    (SAME_UPPER) or at the beginning (SAME_LOWER)."""
    outputs = -(-size // stride)
    total = max(0, (outputs - 1) * stride + span - size)
    return (total - total // 2, total // 2) if lower else (total // 2, total - total // 2)


def _window_count(size, span, stride, begin, end, ceil_mode):
    """How many windows fit, counted one by one: each inside the padded
    input, or in ceil mode hanging past its end by less than a stride; then
    ceil mode drops a last window that would start in the end padding."""
    padded = size + begin + end
    if padded < span:
        return 0
    reach = padded + (stride - 1 if ceil_mode else 0)
    count = 0
    while count * stride + span <= reach:
        count += 1
    if ceil_mode and (count - 1) * stride >= size + begin:
        count -= 1
    return count


def _pool(reduce, x, kernel, stride, padding, dilation, ceil_mode, count_include_pad):
    x = np.asarray(x, np.float32)
    (kh, kw), (sh, sw), (dh, dw) = positive_pair(kernel, "kernel"), \
        positive_pair(stride, "stride"), positive_pair(dilation, "dilation")
    n, c, h, w = x.shape
    span_h, span_w = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    if isinstance(padding, str) and padding.lower() != "valid":
        lower = padding.lower() == "same_lower"
        (top, bottom), (left, right) = _same_pads(h, span_h, sh, lower), \
            _same_pads(w, span_w, sw, lower)
    else:
        pads = (0,) if isinstance(padding, str) else _pair(padding)
        top, left, bottom, right = pads * (4 // len(pads))
    oh = _window_count(h, span_h, sh, top, bottom, ceil_mode)
    ow = _window_count(w, span_w, sw, left, right, ceil_mode)
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
