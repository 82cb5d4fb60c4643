"""Numpy twin of edgeinfer.kernels.qconv1x1."""
import numpy as np


def qconv1x1(x, x_zero, w, bias, multiplier, y_zero, lo=0, hi=255, stride=1, out=None):
    x = np.asarray(x)[:, ::stride, ::stride].astype(np.int64) - int(x_zero)
    acc = np.einsum("mk,khw->mhw", np.asarray(w, np.int64), x)
    if bias is not None:
        acc += np.asarray(bias, np.int64).reshape(-1, 1, 1)
    # float32 product, as the kernels compute it, then ties to even
    value = acc.astype(np.float32) * np.asarray(multiplier, np.float32).reshape(-1, 1, 1)
    result = np.clip(np.rint(value) + int(y_zero), lo, hi).astype(np.uint8)
    if out is not None:
        out[...] = result
        return out
    return result
