"""The per-tensor uint8 steps of QDQ-quantised models besides convolutions,
in C: QuantizeLinear, DequantizeLinear and the Add of two uint8 tensors,
each one pass with ONNX's rounding (half to even) and saturation."""
import numpy as np

from ..core.loader import core as _core


def _zero_point(value, name):
    if not 0 <= int(value) <= 255:
        raise ValueError(f"{name} must be a uint8 value (0..255), got {value}")
    return int(value)


def _out(out, shape, dtype):
    if out is None:
        return np.empty(shape, dtype)
    if out.shape != shape or out.dtype != dtype or not out.flags.c_contiguous:
        raise ValueError(f"out must be a contiguous {np.dtype(dtype).name} array of shape {shape}")
    return out


def quantize_u8(x, scale, zero, out=None):
    """x float32 (any shape) -> saturate(round(x / scale) + zero) uint8,
    ties to even; NaN gives 0."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    out = _out(out, x.shape, np.uint8)
    _core.quantize_u8(x.reshape(-1), float(scale), _zero_point(zero, "zero"), out.reshape(-1))
    return out


def quantize_u8_nhwc(x, scale, zero, out=None):
    """quantize_u8 of x float32 (C, H, W) planes into (H, W, C) uint8 pixels:
    where a QuantizeLinear enters the channels-last int8 region."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    if x.ndim != 3:
        raise ValueError(f"x must be (C, H, W), got shape {x.shape}")
    c, h, w = x.shape
    out = _out(out, (h, w, c), np.uint8)
    _core.quantize_u8_nhwc(x.reshape(c, h * w), float(scale), _zero_point(zero, "zero"),
                           out.reshape(h * w, c))
    return out


def dequantize_u8(x, scale, zero, out=None):
    """x uint8 -> (x - zero) * scale float32."""
    x = np.ascontiguousarray(x, dtype=np.uint8)
    out = _out(out, x.shape, np.float32)
    _core.dequantize_u8(x.reshape(-1), float(scale), _zero_point(zero, "zero"), out.reshape(-1))
    return out


def qadd_u8(a, a_zero, a_ratio, b, b_zero, b_ratio, y_zero, out=None):
    """Two uint8 tensors of one shape -> saturate(round((a - a_zero) a_ratio +
    (b - b_zero) b_ratio) + y_zero) uint8: float64 with the float32 ratios,
    where each product is exact and the sum is rounded once."""
    a = np.ascontiguousarray(a, dtype=np.uint8)
    b = np.ascontiguousarray(b, dtype=np.uint8)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have one shape, got {a.shape} and {b.shape}")
    out = _out(out, a.shape, np.uint8)
    _core.qadd_u8(a.reshape(-1), _zero_point(a_zero, "a_zero"), float(a_ratio), b.reshape(-1),
                  _zero_point(b_zero, "b_zero"), float(b_ratio), _zero_point(y_zero, "y_zero"),
                  out.reshape(-1))
    return out
