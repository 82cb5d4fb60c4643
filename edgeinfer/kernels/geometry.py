"""Where a sliding window (Conv, MaxPool, AveragePool) goes: its padding and
output size from ONNX-style attributes — explicit pads, auto_pad
SAME_UPPER/SAME_LOWER/VALID, strides, dilations and, for pools, ceil_mode.

The one place this is computed: `conv_plan`, `pool` and the native Conv and
pool operators all call it. What checks it: `reference/pool.py` counts its
windows naively on its own, and the conv tests hold `plan_conv` (which the conv
reference shares, to read arguments alike) against the ONNX reference
evaluator, onnxruntime and the ONNX node tests.
"""
from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral

AUTO_PADS = ("valid", "same_upper", "same_lower")
# strides, dilations and pads reach C as int
C_INT_MAX = 2**31 - 1


@dataclass(frozen=True)
class Window:
    kernel: tuple       # (kh, kw)
    strides: tuple      # (sh, sw)
    dilations: tuple    # (dh, dw)
    pads: tuple         # (top, left, bottom, right), ONNX `pads` order
    spans: tuple        # rows and columns one window covers, dilation included
    out_hw: tuple       # (Ho, Wo)


def positive_pair(value, name):
    """(a, b) from an int or a pair of ints, each in 1..C_INT_MAX; ValueError naming `name`."""
    try:
        pair = (value, value) if isinstance(value, Integral) else tuple(value)
    except TypeError:
        pair = ()
    if len(pair) != 2 or not all(isinstance(v, Integral) for v in pair):
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    if not all(1 <= v <= C_INT_MAX for v in pair):
        raise ValueError(f"{name} must be a positive int (at most {C_INT_MAX}) or a pair of "
                         f"them, got {value!r}")
    return tuple(int(v) for v in pair)


def resolve_pads(padding, in_hw, spans, strides):
    """(top, left, bottom, right) from an int, (ph, pw), four pads or an auto_pad mode."""
    if isinstance(padding, str):
        mode = padding.lower()
        if mode not in AUTO_PADS:
            raise ValueError(f"padding must be an int, (ph, pw), (top, left, bottom, right) or "
                             f"one of {AUTO_PADS}, got {padding!r}")
        if mode == "valid":
            return (0, 0, 0, 0)
        begin, end = [], []
        for size, span, stride in zip(in_hw, spans, strides):
            out = -(-size // stride)
            total = max(0, (out - 1) * stride + span - size)
            small, large = total // 2, total - total // 2
            # SAME_UPPER puts the odd pixel at the end, SAME_LOWER at the beginning
            begin.append(small if mode == "same_upper" else large)
            end.append(large if mode == "same_upper" else small)
        return (begin[0], begin[1], end[0], end[1])
    if isinstance(padding, Integral):
        pads = (int(padding),) * 4
    else:
        try:
            pads = tuple(int(p) for p in padding)
        except TypeError:
            raise ValueError(f"padding must be an int, a tuple or a mode name, got {padding!r}") \
                from None
        if len(pads) == 2:
            pads = pads + pads
        elif len(pads) != 4:
            raise ValueError(f"padding needs 1, 2 or 4 values (top, left, bottom, right), "
                             f"got {padding!r}")
    if min(pads) < 0:
        raise ValueError(f"padding must not be negative, got {padding!r}")
    return pads


def output_size(size, span, stride, begin, end, ceil_mode=False):
    """ONNX's output length; in ceil mode a last window that would start in
    the end padding is dropped (as PyTorch and onnxruntime do)."""
    room = size + begin + end - span
    if room < 0:
        return 0
    out = (-(-room // stride) if ceil_mode else room // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + begin:
        out -= 1
    return out


def plan_window(in_hw, kernel, stride=1, padding=0, dilation=1, ceil_mode=False):
    """The window's strides, dilations, pads and output size over an (H, W) input."""
    kernel = positive_pair(kernel, "kernel")
    strides = positive_pair(stride, "stride")
    dilations = positive_pair(dilation, "dilation")
    spans = tuple((k - 1) * d + 1 for k, d in zip(kernel, dilations))
    pads = resolve_pads(padding, in_hw, spans, strides)
    out_hw = tuple(output_size(size, span, s, begin, end, ceil_mode) for size, span, s, begin, end
                   in zip(in_hw, spans, strides, pads[:2], pads[2:]))
    return Window(kernel, strides, dilations, pads, spans, out_hw)


ONNX_AUTO_PADS = {"NOTSET": None, "": None, "VALID": "valid", "SAME_UPPER": "same_upper",
                  "SAME_LOWER": "same_lower"}


def onnx_window_arguments(spatial, kernel_shape, strides=None, dilations=None, auto_pad="NOTSET",
                          pads=None):
    """The 2-D kernels' (kernel, stride, padding, dilation) from a 1-D or 2-D
    ONNX Conv/pool node's attributes; a 1-D window runs as one of height 1.
    ValueError for an auto_pad ONNX does not define."""
    if auto_pad not in ONNX_AUTO_PADS:
        raise ValueError(f"auto_pad={auto_pad!r}")
    lift = [1] * (2 - spatial)
    strides = lift + list(strides or [1] * spatial)
    dilations = lift + list(dilations or [1] * spatial)
    padding = ONNX_AUTO_PADS[auto_pad]
    if padding is None:
        pads = list(pads or [0] * (2 * spatial))
        begin, end = [0] * (2 - spatial) + pads[:spatial], [0] * (2 - spatial) + pads[spatial:]
        padding = (begin[0], begin[1], end[0], end[1])
    return tuple(lift + list(kernel_shape)), tuple(strides), padding, tuple(dilations)
