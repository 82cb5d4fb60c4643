"""Elementwise activations (ONNX Relu, Clip, LeakyRelu, Sigmoid, HardSigmoid,
HardSwish, Tanh) and softmax, float32, in C."""
import numpy as np

from ..core.loader import core as _core
from .buffers import output_buffer

# alpha, beta: Clip's (min, max), LeakyRelu's slope, HardSigmoid's (alpha, beta)
ACTIVATIONS = _core.ACTIVATIONS


def _float_out(x, out):
    x = np.asarray(x, dtype=np.float32, order="C")  # keeps a 0-d input 0-d
    return x, output_buffer(out, x.shape)


def activation(x, kind, alpha=0.0, beta=0.0, out=None):
    """kind: one of ACTIVATIONS. out may be x (in place)."""
    if kind not in ACTIVATIONS:
        raise ValueError(f"kind must be one of {ACTIVATIONS}, got {kind!r}")
    x, out = _float_out(x, out)
    _core.activation(ACTIVATIONS.index(kind), x.reshape(-1), out.reshape(-1), alpha, beta)
    return out


def softmax(x, axis=-1, out=None):
    """Softmax along one axis."""
    x, out = _float_out(x, out)
    if x.ndim == 0:
        raise ValueError("softmax needs at least one axis, got a 0-d array")
    axis = axis % x.ndim
    blocks = (int(np.prod(x.shape[:axis])), x.shape[axis], int(np.prod(x.shape[axis + 1:])))
    _core.softmax(x.reshape(blocks), out.reshape(blocks))
    return out
