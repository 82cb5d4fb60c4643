"""Numpy twins of edgeinfer.kernels.activation, as the ONNX operators define them."""
import numpy as np


def activation(x, kind, alpha=0.0, beta=0.0, out=None):
    x = np.asarray(x, np.float32).astype(np.float64)
    if kind == "relu":
        result = np.maximum(x, 0)
    elif kind == "clip":
        result = np.minimum(np.maximum(x, alpha), beta)
    elif kind == "leaky_relu":
        result = np.where(x < 0, alpha * x, x)
    elif kind == "sigmoid":
        with np.errstate(over="ignore"):  # exp(-x) reaches inf for x << 0: the result is 0
            result = 1.0 / (1.0 + np.exp(-x))
    elif kind == "hard_sigmoid":
        result = np.clip(alpha * x + beta, 0, 1)
    elif kind == "hard_swish":
        result = x * np.clip(x / 6.0 + 0.5, 0, 1)
    elif kind == "tanh":
        result = np.tanh(x)
    elif kind == "silu":
        result = x / (1.0 + np.exp(-x))
    else:
        raise ValueError(kind)
    result = result.astype(np.float32)
    if out is not None:
        out[...] = result
        return out
    return result


def softmax(x, axis=-1, out=None):
    x = np.asarray(x, np.float32).astype(np.float64)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    result = (e / e.sum(axis=axis, keepdims=True)).astype(np.float32)
    if out is not None:
        out[...] = result
        return out
    return result
