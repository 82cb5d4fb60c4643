"""Numpy twin of edgeinfer.kernels.qdwconv."""
import numpy as np

from .qconv import requantize


def qdwconv(x, x_zero, w, bias, multiplier, y_zero, lo=0, hi=255, stride=1, pads=(0, 0, 0, 0),
            out=None):
    top, left, bottom, right = pads
    # padding with the zero point: the quantised 0.0 a float Conv pads with
    x = np.pad(np.asarray(x).astype(np.int64) - int(x_zero),
               ((0, 0), (top, bottom), (left, right)))
    w = np.asarray(w, np.int64)
    c, kh, kw = w.shape
    oh, ow = (x.shape[1] - kh) // stride + 1, (x.shape[2] - kw) // stride + 1
    acc = np.zeros((c, oh, ow), np.int64)
    for i in range(kh):
        for j in range(kw):
            window = x[:, i:i + (oh - 1) * stride + 1:stride, j:j + (ow - 1) * stride + 1:stride]
            acc += w[:, i, j].reshape(-1, 1, 1) * window
    return requantize(acc, bias, multiplier, y_zero, lo, hi, out)


def qdwconv_nhwc(x, x_zero, w, bias, multiplier, y_zero, lo=0, hi=255, stride=1,
                 pads=(0, 0, 0, 0)):
    """qdwconv channels-last: x (h, w, c) -> (oh, ow, c)."""
    planes = qdwconv(np.asarray(x).transpose(2, 0, 1), x_zero, w, bias, multiplier, y_zero, lo,
                     hi, stride, pads)
    return np.ascontiguousarray(planes.transpose(1, 2, 0))
