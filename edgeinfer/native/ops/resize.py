"""Resize and Upsample, nearest and linear, with ONNX's coordinate
transformation and nearest modes (the semantics of onnx.reference's Resize).

Resizing is separable: at load each resized axis gets a table of source
indices (and, for linear, weights) per output position; a run is one gather
(nearest) or two gathers and a weighted sum (linear) per resized axis, into
buffers made at bind. Integer nearest upsampling (a detector's 2x upsample)
is a single broadcast copy."""
import numpy as np

from ..errors import unsupported
from ..kernel import FLOAT, Kernel, normalise_axis, optional_input, require_constant

COORDINATE_MODES = ("half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners",
                    "asymmetric", "tf_crop_and_resize")
NEAREST_MODES = ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil", "simple")


def _values(node, operand, what):
    if operand is None:
        return None
    value = require_constant(node, operand, what)
    return None if value.size == 0 else value


def _settings(node, operands, opset):
    """(mode, coordinate mode, nearest mode, scales, sizes, roi, axes) as given."""
    mode = node.attr("mode", "nearest")
    if node.op == "Upsample" or opset < 11:
        # Upsample and Resize-10 have no coordinate modes: onnxruntime maps the
        # output to the input as x / scale, rounding down (up when shrinking)
        scales = node.attr("scales") if node.op == "Upsample" and opset < 9 else \
            _values(node, optional_input(operands, 1), "scales")
        return mode, "asymmetric", "simple", scales, None, None, None
    roi = _values(node, optional_input(operands, 1), "roi")
    scales = _values(node, optional_input(operands, 2), "scales")
    sizes = _values(node, optional_input(operands, 3), "sizes")
    return (mode, node.attr("coordinate_transformation_mode", "half_pixel"),
            node.attr("nearest_mode", "round_prefer_floor"), scales, sizes, roi,
            node.attr("axes"))


def _check(node, mode, coordinates, nearest, scales, sizes):
    what = f"{node.op} node {node.name!r}"
    if mode not in ("nearest", "linear"):
        raise unsupported(f"{what} in mode {mode!r} (nearest and linear only)")
    if coordinates not in COORDINATE_MODES:
        raise unsupported(f"{what} with coordinate_transformation_mode={coordinates!r}")
    if nearest not in NEAREST_MODES:
        raise unsupported(f"{what} with nearest_mode={nearest!r}")
    if scales is None and sizes is None:
        raise unsupported(f"{what} with neither scales nor sizes")


def output_shape(node, shape, scales, sizes, axes):
    """(output shape, scale per axis) as the ONNX Resize definition computes them."""
    rank = len(shape)
    axes = list(range(rank)) if axes is None else [normalise_axis(int(a), rank) for a in axes]
    if sizes is not None:
        wanted = dict(zip(axes, (int(s) for s in sizes)))
        factors = [wanted.get(i, shape[i]) / shape[i] if shape[i] else 1.0 for i in range(rank)]
        policy = node.attr("keep_aspect_ratio_policy", "stretch")
        if policy == "stretch":
            return tuple(wanted.get(i, shape[i]) for i in range(rank)), factors
        if policy not in ("not_larger", "not_smaller"):
            raise unsupported(f"Resize node {node.name!r} with keep_aspect_ratio_policy="
                              f"{policy!r}")
        pick = min if policy == "not_larger" else max
        scale = pick(factors[i] for i in axes)
        factors = [scale if i in axes else 1.0 for i in range(rank)]
        return tuple(int(scale * shape[i] + 0.5) if i in axes else shape[i]
                     for i in range(rank)), factors
    given = dict(zip(axes, (float(s) for s in scales)))
    factors = [given.get(i, 1.0) for i in range(rank)]
    if min(factors) <= 0:
        raise unsupported(f"{node.op} node {node.name!r} with scales {list(scales)}")
    return tuple(int(f * d) for f, d in zip(factors, shape)), factors


def source_coordinates(mode, length, out_length, scale, roi=None):
    """Where each output position along one axis reads the input (float64),
    and for tf_crop_and_resize which positions fall outside it."""
    y = np.arange(out_length, dtype=np.float64)
    width = scale * length
    outside = None
    if mode == "align_corners":
        x = np.zeros(out_length) if width == 1 else y * (length - 1) / (width - 1)
    elif mode == "asymmetric":
        x = y / scale
    elif mode == "tf_crop_and_resize":
        start, end = roi
        x = np.full(out_length, (end - start) * (length - 1) / 2) if width == 1 else \
            y * (end - start) * (length - 1) / (width - 1)
        x = x + start * (length - 1)
        outside = (x < 0) | (x > length - 1)
    elif mode == "pytorch_half_pixel":
        x = np.full(out_length, -0.5) if width == 1 else (y + 0.5) / scale - 0.5
    elif mode == "half_pixel":
        x = (y + 0.5) / scale - 0.5
    else:   # half_pixel_symmetric: the resized region centred on the input
        offset = length / 2 * (1 - out_length / width)
        x = offset + (y + 0.5) / scale - 0.5
    return x, outside


def nearest_indices(x, nearest, length, scale):
    below = np.floor(x)
    fraction = x - below
    if nearest == "simple":
        nearest = "ceil" if scale < 1 else "floor"
    if nearest == "round_prefer_floor":
        up = fraction > 0.5
    elif nearest == "round_prefer_ceil":
        up = fraction >= 0.5
    elif nearest == "ceil":
        up = fraction > 0
    else:
        up = np.zeros(x.shape, bool)
    return np.clip(below + up, 0, length - 1).astype(np.intp)


class AxisPass:
    """One resized axis: output position i reads input positions first[i]
    (and second[i], weighted, for linear)."""

    def __init__(self, axis, first, second=None, weight=None, outside=None):
        self.axis, self.first, self.second = axis, first, second
        self.weight, self.outside = weight, outside

    def repeat_factor(self, length):
        """k when this pass is a plain k-fold nearest repeat of every position."""
        out = len(self.first)
        if self.second is not None or self.outside is not None or out % length:
            return None
        k = out // length
        return k if np.array_equal(self.first, np.repeat(np.arange(length), k)) else None


def axis_passes(node, shape, out_shape, factors, mode, coordinates, nearest, roi):
    rank = len(shape)
    if roi is not None and len(roi) != 2 * rank:
        axes = node.attr("axes")
        full = [0.0] * rank + [1.0] * rank
        for i, axis in enumerate(axes or []):
            full[normalise_axis(int(axis), rank)] = roi[i]
            full[rank + normalise_axis(int(axis), rank)] = roi[len(axes) + i]
        roi = full
    passes = []
    for axis in range(rank):
        length, out_length, scale = shape[axis], out_shape[axis], factors[axis]
        bounds = None if roi is None else (float(roi[axis]), float(roi[rank + axis]))
        if out_length == length and np.isclose(scale, 1.0) and \
                (bounds is None or np.allclose(bounds, (0.0, 1.0))):
            continue
        if coordinates == "tf_crop_and_resize" and bounds is None:
            raise unsupported(f"Resize node {node.name!r} in tf_crop_and_resize mode without roi")
        x, outside = source_coordinates(coordinates, length, out_length, scale, bounds)
        if outside is not None and not outside.any():
            outside = None
        if mode == "nearest":
            passes.append(AxisPass(axis, nearest_indices(x, nearest, length, scale),
                                   outside=outside))
            continue
        below = np.floor(x)
        weight = (x - below).astype(np.float32)
        first = np.clip(below, 0, length - 1).astype(np.intp)
        second = np.clip(below + 1, 0, length - 1).astype(np.intp)
        passes.append(AxisPass(axis, first, second, weight, outside))
    return passes


def _along(axis, rank, values):
    return values.reshape((1,) * axis + (-1,) + (1,) * (rank - axis - 1))


def _bind_repeat(shape, out_shape, factors_by_axis):
    """Nearest k-fold repeats on every resized axis: one broadcast copy."""
    source_view, target_view = [], []
    for axis, length in enumerate(shape):
        k = factors_by_axis.get(axis, 1)
        source_view += [length, 1]
        target_view += [length, k]

    def bind(ins, outs):
        src = ins[0].reshape(source_view)
        out = outs[0].reshape(target_view)
        return lambda: np.copyto(out, src)
    return bind


def _bind_passes(shape, passes, extrapolation):
    rank = len(shape)

    def bind(ins, outs):
        steps = []
        current = ins[0]
        for number, axis_pass in enumerate(passes):
            if number == len(passes) - 1:
                target = outs[0]
            else:
                size = list(current.shape)
                size[axis_pass.axis] = len(axis_pass.first)
                target = np.empty(size, current.dtype)    # once, at bind
            steps.append(_pass_call(axis_pass, current, target, rank, extrapolation))
            current = target

        def run():
            for step in steps:
                step()
        return run
    return bind


def _pass_call(axis_pass, src, dst, rank, extrapolation):
    axis, first = axis_pass.axis, axis_pass.first
    mask = None if axis_pass.outside is None else _along(axis, rank, axis_pass.outside)
    fill = np.asarray(extrapolation, dtype=dst.dtype)
    if axis_pass.second is None:
        def nearest():
            np.take(src, first, axis=axis, out=dst, mode="clip")
            if mask is not None:
                np.copyto(dst, fill, where=mask)
        return nearest
    second = axis_pass.second
    upper = _along(axis, rank, axis_pass.weight)
    lower = _along(axis, rank, (1 - axis_pass.weight).astype(np.float32))
    scratch = np.empty_like(dst)

    def linear():
        np.take(src, first, axis=axis, out=dst, mode="clip")
        np.multiply(dst, lower, out=dst)
        np.take(src, second, axis=axis, out=scratch, mode="clip")
        np.multiply(scratch, upper, out=scratch)
        np.add(dst, scratch, out=dst)
        if mask is not None:
            np.copyto(dst, fill, where=mask)
    return linear


def make_resize(node, operands, opset):
    x = operands[0]
    mode, coordinates, nearest, scales, sizes, roi, axes = _settings(node, operands, opset)
    _check(node, mode, coordinates, nearest, scales, sizes)
    if mode == "linear" and x.dtype != FLOAT:
        raise unsupported(f"{node.op} node {node.name!r} (linear) on {x.dtype} tensors "
                          "(float32 only)")
    out_shape, factors = output_shape(node, x.shape, scales, sizes, axes)
    # antialiasing widens the filter only when shrinking
    if node.attr("antialias", 0) and min(factors) < 1:
        raise unsupported(f"{node.op} node {node.name!r} shrinking with antialias=1")
    passes = axis_passes(node, x.shape, out_shape, factors, mode, coordinates, nearest, roi)
    if not passes:
        return Kernel([tuple(out_shape)], [x.dtype], view_of=0)
    repeats = {p.axis: p.repeat_factor(x.shape[p.axis]) for p in passes}
    if all(repeats.values()):
        bind = _bind_repeat(x.shape, out_shape, repeats)
    else:
        bind = _bind_passes(x.shape, passes, float(node.attr("extrapolation_value", 0.0)))
    return Kernel([tuple(out_shape)], [x.dtype], bind)


OPS = {"Resize": make_resize, "Upsample": make_resize}
