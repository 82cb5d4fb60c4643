"""The one place the executor calls 2-D convolution: the compiled core's
conv2d when the build has it, a numpy im2col otherwise. Arguments are already
resolved: float32 NCHW arrays, pads (top, left, bottom, right), clamp None or
(lo, hi), out preallocated."""
import numpy as np

from .. import _native

core = _native.core


def conv2d_numpy(x, w, bias, out, stride, dilation, pads, groups, clamp):
    n, c, _, _ = x.shape
    m, cg, kh, kw = w.shape
    (sh, sw), (dh, dw), (pt, pl, pb, pr) = stride, dilation, pads
    oh, ow = out.shape[2:]
    padded = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))

    def tap(i, j):
        """The input values under kernel tap (i, j) for every output position."""
        return padded[:, :, i * dh:i * dh + (oh - 1) * sh + 1:sh, j * dw:j * dw + (ow - 1) * sw + 1:sw]

    if cg == 1 and m == groups:
        # depthwise: one multiply-add over every plane per kernel tap
        out[...] = 0
        for i in range(kh):
            for j in range(kw):
                out += w[:, 0, i, j].reshape(1, m, 1, 1) * tap(i, j)
    else:
        columns = np.stack([tap(i, j) for i in range(kh) for j in range(kw)], axis=2)
        columns = columns.reshape(n, groups, cg * kh * kw, oh * ow)
        weights = w.reshape(groups, m // groups, cg, kh * kw).reshape(groups, m // groups, -1)
        out[...] = np.matmul(weights[None], columns).reshape(out.shape)
    if bias is not None:
        out += bias.reshape(1, m, 1, 1)
    if clamp is not None:
        np.clip(out, clamp[0], clamp[1], out=out)


def conv2d_core(x, w, bias, out, stride, dilation, pads, groups, clamp):
    core.conv2d(x, w, bias, out, tuple(stride), tuple(dilation), tuple(pads), groups,
                None if clamp is None else (float(clamp[0]), float(clamp[1])))


conv2d = conv2d_core if hasattr(core, "conv2d") else conv2d_numpy
