"""The one place the executor calls 2-D convolution: the compiled core's
conv2d when the build has it, a numpy im2col otherwise. Arguments are already
resolved: float32 NCHW arrays, pads (top, left, bottom, right), clamp None or
(lo, hi), out preallocated."""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .. import _native

core = _native.core


def conv2d_numpy(x, w, bias, out, stride, dilation, pads, groups, clamp):
    n, c, _, _ = x.shape
    m, cg, kh, kw = w.shape
    (sh, sw), (dh, dw), (pt, pl, pb, pr) = stride, dilation, pads
    oh, ow = out.shape[2:]
    padded = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    windows = sliding_window_view(padded, ((kh - 1) * dh + 1, (kw - 1) * dw + 1), axis=(2, 3))
    windows = windows[:, :, ::sh, ::sw, ::dh, ::dw][:, :, :oh, :ow]
    windows = windows.reshape(n, groups, cg, oh, ow, kh, kw)
    weights = w.reshape(groups, m // groups, cg, kh, kw)
    result = np.einsum("ngcijkl,gmckl->ngmij", windows, weights, optimize=True)
    out[...] = result.reshape(out.shape)
    if bias is not None:
        out += bias.reshape(1, m, 1, 1)
    if clamp is not None:
        np.clip(out, clamp[0], clamp[1], out=out)


def conv2d_core(x, w, bias, out, stride, dilation, pads, groups, clamp):
    core.conv2d(x, w, bias, out, tuple(stride), tuple(dilation), tuple(pads), groups,
                None if clamp is None else (float(clamp[0]), float(clamp[1])))


conv2d = conv2d_core if hasattr(core, "conv2d") else conv2d_numpy
