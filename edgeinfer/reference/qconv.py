"""Numpy twin of edgeinfer.kernels.qconv1x1."""
import numpy as np


def qconv1x1(x, x_zero, w, bias, multiplier, y_zero, lo=0, hi=255, stride=1, out=None):
    x = np.asarray(x)[:, ::stride, ::stride].astype(np.int64) - int(x_zero)
    acc = np.einsum("mk,khw->mhw", np.asarray(w, np.int64), x)
    return requantize(acc, bias, multiplier, y_zero, lo, hi, out)


def requantize(acc, bias, multiplier, y_zero, lo, hi, out=None):
    """Per-channel int64 sums (c, h, w) -> uint8, as both integer kernels write
    them: plus the bias, times the multiplier in float32, ties to even, plus the
    output zero point, clamped to [lo, hi]."""
    if bias is not None:
        acc = acc + np.asarray(bias, np.int64).reshape(-1, 1, 1)
    value = acc.astype(np.float32) * np.asarray(multiplier, np.float32).reshape(-1, 1, 1)
    result = np.clip(np.rint(value) + int(y_zero), lo, hi).astype(np.uint8)
    if out is not None:
        out[...] = result
        return out
    return result


def qconv1x1_nhwc(x, x_zero, w, bias, multiplier, y_zero, lo=0, hi=255, stride=1):
    """qconv1x1 channels-last: x (h, w, k) -> (oh, ow, m)."""
    planes = qconv1x1(np.asarray(x).transpose(2, 0, 1), x_zero, w, bias, multiplier, y_zero, lo,
                      hi, stride)
    return np.ascontiguousarray(planes.transpose(1, 2, 0))
