"""Numpy twins of edgeinfer.kernels.quantize_u8, quantize_u8_nhwc, dequantize_u8
and qadd_u8."""
import numpy as np


def _saturate_u8(values, zero, out):
    """round(values) + zero, half to even, saturated to uint8; NaN gives 0."""
    values = np.clip(np.rint(values) + np.float32(zero), 0, 255)
    values = np.where(np.isnan(values), 0, values)
    result = values.astype(np.uint8)
    if out is not None:
        out[...] = result
        return out
    return result


def quantize_u8(x, scale, zero, out=None):
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        return _saturate_u8(np.asarray(x, np.float32) / np.float32(scale), zero, out)


def quantize_u8_nhwc(x, scale, zero):
    """x (C, H, W) float32 planes quantised into (H, W, C) pixels."""
    return np.ascontiguousarray(quantize_u8(x, scale, zero).transpose(1, 2, 0))


def dequantize_u8(x, scale, zero, out=None):
    # (x - zero) is a small integer, exact in float32, as onnxruntime computes it
    result = (np.asarray(x).astype(np.float32) - np.float32(zero)) * np.float32(scale)
    if out is not None:
        out[...] = result
        return out
    return result


def qadd_u8(a, a_zero, a_ratio, b, b_zero, b_ratio, y_zero, out=None):
    # float64 with the float32 ratios: each product exact, the sum rounded once
    pa = (np.asarray(a).astype(np.float64) - a_zero) * np.float64(np.float32(a_ratio))
    pb = (np.asarray(b).astype(np.float64) - b_zero) * np.float64(np.float32(b_ratio))
    return _saturate_u8(pa + pb, y_zero, out)
