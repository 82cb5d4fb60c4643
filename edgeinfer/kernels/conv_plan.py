"""What `conv2d` will compute, decided once from its arguments: explicit pads
from ONNX `pads`/`auto_pad` style padding, strides, dilations (the window's
geometry, from `geometry`), the clamp of the fused activation and the output
shape.

The C kernel and the numpy reference both run from the same plan, so they
read arguments identically; the arithmetic that follows is theirs alone.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from numbers import Integral

import numpy as np

from .geometry import plan_window

ACTIVATIONS = {"relu": (0.0, np.inf), "relu6": (0.0, 6.0)}


@dataclass(frozen=True)
class ConvPlan:
    strides: tuple      # (sh, sw)
    dilations: tuple    # (dh, dw)
    pads: tuple         # (top, left, bottom, right), ONNX `pads` order
    groups: int
    clamp: tuple | None  # (lo, hi) of the fused activation, or None
    out_shape: tuple    # (N, M, Ho, Wo)


def _clamp(activation):
    if activation is None:
        return None
    if isinstance(activation, str):
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be None, 'relu', 'relu6' or a (lo, hi) clip range, "
                             f"got {activation!r}")
        return ACTIVATIONS[activation]
    try:
        lo, hi = activation
    except (TypeError, ValueError):
        raise ValueError(f"a clip activation is a (lo, hi) pair, got {activation!r}") from None
    lo = -np.inf if lo is None else float(lo)
    hi = np.inf if hi is None else float(hi)
    if not lo <= hi:
        raise ValueError(f"clip range needs lo <= hi, got ({lo}, {hi})")
    return (lo, hi)


def plan_conv(x_shape, w_shape, b_shape=None, stride=1, padding=0, dilation=1, groups=1,
              activation=None):
    """The plan for these arguments; remembered, since a model calls each layer
    with the same ones every frame and planning costs as much as a small
    convolution."""
    key = (tuple(x_shape), tuple(w_shape), None if b_shape is None else tuple(b_shape), stride,
           padding, dilation, groups, activation)
    try:
        return _plan_cached(*key)
    except TypeError:  # an unhashable argument (a list): plan without the cache
        return _plan(*key)


def _plan(x_shape, w_shape, b_shape, stride, padding, dilation, groups, activation):
    if len(x_shape) != 4:
        raise ValueError(f"x must be NCHW (4 dimensions), got shape {tuple(x_shape)}")
    if len(w_shape) != 4:
        raise ValueError(f"w must be (M, C/groups, kh, kw), got shape {tuple(w_shape)}")
    if not isinstance(groups, Integral) or groups < 1:
        raise ValueError(f"groups must be a positive int, got {groups!r}")
    n, c, h, w = x_shape
    m, cg, kh, kw = w_shape
    if min(x_shape) < 1 or min(w_shape) < 1:
        raise ValueError(f"empty input or weights: x {tuple(x_shape)}, w {tuple(w_shape)}")
    if c % groups or m % groups:
        raise ValueError(f"groups={groups} must divide the input channels of x {tuple(x_shape)} "
                         f"and the output channels of w {tuple(w_shape)}")
    if cg * groups != c:
        raise ValueError(f"w {tuple(w_shape)} expects {cg * groups} input channels with "
                         f"groups={groups}, x {tuple(x_shape)} has {c}")
    if b_shape is not None and tuple(b_shape) != (m,):
        raise ValueError(f"b must have shape ({m},) for w {tuple(w_shape)}, got {tuple(b_shape)}")
    window = plan_window((h, w), (kh, kw), stride, padding, dilation)
    pads, spans = window.pads, window.spans
    padded = (h + pads[0] + pads[2], w + pads[1] + pads[3])
    if padded[0] < spans[0] or padded[1] < spans[1]:
        raise ValueError(f"the kernel of w {tuple(w_shape)} with dilation {window.dilations} "
                         f"spans {spans}, larger than the padded input {padded} of x "
                         f"{tuple(x_shape)}")
    return ConvPlan(window.strides, window.dilations, pads, int(groups), _clamp(activation),
                    (n, m) + window.out_hw)


_plan_cached = lru_cache(maxsize=256)(_plan)
