"""Pooling and mean reductions: the spatial ones on the C core."""
import numpy as np

from ...core.loader import core
from ...kernels.geometry import plan_window
from ..errors import unsupported
from ..kernel import FLOAT, Kernel, normalise_axis, optional_input, require_constant, \
    require_float
from .conv import as_2d, planned, window_arguments


def _pool(average):
    def make(node, operands, opset):
        x = operands[0]
        require_float(node, operands[:1])
        if len(node.outputs) > 1 and any(node.outputs[1:]):
            raise unsupported(f"{node.op} node {node.name!r} with an Indices output")
        spatial = len(x.shape) - 2
        if spatial not in (1, 2):
            raise unsupported(f"{node.op} node {node.name!r} over {spatial} spatial axes")
        kernel, strides, padding, dilations = window_arguments(node, spatial,
                                                               node.attr("kernel_shape"))
        window = planned(node, plan_window, as_2d(x.shape)[2:], kernel, strides, padding,
                         dilations, bool(node.attr("ceil_mode", 0)))
        shape = tuple(x.shape[:2]) + window.out_hw[2 - spatial:]
        kernel, strides, dilations, pads = window.kernel, window.strides, window.dilations, \
            window.pads
        include_pad = bool(node.attr("count_include_pad", 0))

        def bind(ins, outs):
            n, c, h, w = as_2d(ins[0].shape)
            src = ins[0].reshape(n * c, h, w)
            dst = outs[0].reshape((n * c,) + as_2d(outs[0].shape)[2:])
            return core.Pool2dCall(average, src, dst, tuple(kernel), tuple(strides),
                                   tuple(dilations), tuple(pads), include_pad)

        return Kernel([shape], [FLOAT], bind)
    return make


def _global_average(node, operands, opset):
    x = operands[0]
    require_float(node, operands[:1])
    shape = tuple(x.shape[:2]) + (1,) * (len(x.shape) - 2)

    def bind(ins, outs):
        planes = int(np.prod(ins[0].shape[:2]))
        src, dst = ins[0].reshape(planes, -1), outs[0].reshape(planes)
        return lambda: core.global_avg_pool(src, dst)

    return Kernel([shape], [FLOAT], bind)


def _global_max(node, operands, opset):
    x = operands[0]
    require_float(node, operands[:1])
    axes = tuple(range(2, len(x.shape)))
    shape = tuple(x.shape[:2]) + (1,) * len(axes)

    def bind(ins, outs):
        src, dst = ins[0], outs[0]
        return lambda: np.max(src, axis=axes, keepdims=True, out=dst)

    return Kernel([shape], [FLOAT], bind)


REDUCERS = {"ReduceMean": np.mean, "ReduceSum": np.sum, "ReduceMax": np.max, "ReduceMin": np.min}


def reduce_axes(node, operands, opset):
    """Axes to reduce (sorted, non-negative); () means none."""
    rank = len(operands[0].shape)
    axes_from_input = opset >= 18 or (node.op == "ReduceSum" and opset >= 13)
    if axes_from_input:
        operand = optional_input(operands, 1)
        axes = None if operand is None else require_constant(node, operand, "axes").tolist()
    else:
        axes = node.attr("axes")
    if not axes:
        if node.attr("noop_with_empty_axes", 0):
            return ()
        return tuple(range(rank))
    if any(not -rank <= int(a) < rank for a in axes):   # numpy would refuse it mid-run
        raise ValueError(f"axes {list(axes)} name an axis outside a rank-{rank} tensor")
    return tuple(sorted(normalise_axis(int(a), rank) for a in axes))


def _reduce(node, operands, opset):
    x = operands[0]
    require_float(node, operands[:1])
    axes = reduce_axes(node, operands, opset)
    keepdims = bool(node.attr("keepdims", 1))
    shape = tuple(1 if i in axes else d for i, d in enumerate(x.shape) if keepdims or i not in axes)
    reducer = REDUCERS[node.op]
    # a mean over the trailing axes of a contiguous tensor is GlobalAveragePool
    trailing = axes == tuple(range(len(x.shape) - len(axes), len(x.shape))) and axes
    spatial_mean = node.op == "ReduceMean" and trailing and 0 not in axes

    def bind(ins, outs):
        src, dst = ins[0], outs[0]
        if not axes:
            return lambda: np.copyto(dst, src)
        if spatial_mean:
            lead = int(np.prod(src.shape[:axes[0]]))
            flat_src, flat_dst = src.reshape(lead, -1), dst.reshape(lead)
            return lambda: core.global_avg_pool(flat_src, flat_dst)
        out = dst.reshape(tuple(1 if i in axes else d for i, d in enumerate(src.shape)))
        return lambda: reducer(src, axis=axes, keepdims=True, out=out)

    return Kernel([shape], [FLOAT], bind)


OPS = {"MaxPool": _pool(False), "AveragePool": _pool(True), "GlobalAveragePool": _global_average,
       "GlobalMaxPool": _global_max}
OPS.update({op: _reduce for op in REDUCERS})
