"""numpy twin of edgeinfer.conv2d: pad, then one strided slice per tap."""
import numpy as np

from ..kernels.conv_plan import plan_conv


def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1, activation=None, out=None):
    """Same arguments and result as edgeinfer.conv2d, accumulated in float64."""
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    plan = plan_conv(x.shape, w.shape, None if b is None else np.shape(b), stride, padding,
                     dilation, groups, activation)
    n, m, ho, wo = plan.out_shape
    top, left, bottom, right = plan.pads
    sh, sw = plan.strides
    dh, dw = plan.dilations
    _, cg, kh, kw = w.shape
    mg = m // plan.groups
    padded = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    y = np.zeros((n, m, ho, wo))
    for g in range(plan.groups):
        xg = padded[:, g * cg:(g + 1) * cg]
        wg = w[g * mg:(g + 1) * mg]
        for ky in range(kh):
            for kx in range(kw):
                window = xg[:, :, ky * dh:ky * dh + (ho - 1) * sh + 1:sh,
                            kx * dw:kx * dw + (wo - 1) * sw + 1:sw]
                y[:, g * mg:(g + 1) * mg] += np.einsum("nchw,mc->nmhw", window, wg[:, :, ky, kx])
    if b is not None:
        y += np.asarray(b, dtype=np.float64)[None, :, None, None]
    if plan.clamp is not None:
        y = np.clip(y, *plan.clamp)
    if out is None:
        return y.astype(np.float32)
    out[...] = y
    return out
