"""The arguments the integer conv kernels (qconv, qdwconv, in either layout)
share, checked and made what C reads: per-channel multipliers and biases,
zero points and bounds."""
import numpy as np


def per_channel(multiplier, bias, channels):
    """(multiplier float32, bias int32 or None), each one value per channel."""
    multiplier = np.ascontiguousarray(np.broadcast_to(multiplier, (channels,)), dtype=np.float32)
    if bias is not None:
        bias = np.ascontiguousarray(np.broadcast_to(bias, (channels,)), dtype=np.int32)
    return multiplier, bias


def check_points(x_zero, y_zero, lo, hi):
    if not (0 <= x_zero <= 255 and 0 <= y_zero <= 255 and 0 <= lo <= y_zero <= hi <= 255):
        raise ValueError("zero points and bounds must be uint8 values with lo <= y_zero <= hi")

