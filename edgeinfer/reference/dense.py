"""Numpy twin of edgeinfer.kernels.dense."""
import numpy as np


def dense(x, w, bias=None, out=None):
    result = np.asarray(x, np.float64) @ np.asarray(w, np.float64)
    if bias is not None:
        result += np.asarray(bias, np.float64).reshape(-1)
    result = result.astype(np.float32)
    if out is not None:
        out[...] = result
        return out
    return result
