"""Split on run-time values: each output is a copy of one slab of the input
along the axis (YOLO-style C2f blocks split a conv's output in two)."""
import numpy as np

from ..errors import unsupported
from ..kernel import Kernel, normalise_axis, optional_input, require_constant


def split_sizes(node, operands, opset):
    """The length of each output along the axis, as ONNX's Split defines it."""
    x = operands[0]
    axis = normalise_axis(int(node.attr("axis", 0)), len(x.shape))
    length, parts = x.shape[axis], len(node.outputs)
    if opset >= 13:
        operand = optional_input(operands, 1)
        sizes = None if operand is None else require_constant(node, operand, "split").tolist()
    else:
        sizes = node.attr("split")
    if sizes is None:
        parts = int(node.attr("num_outputs", parts))
        # opset 18: the last part is smaller when the axis does not divide evenly
        step = -(-length // parts)
        sizes = [min(step, max(length - i * step, 0)) for i in range(parts)]
    sizes = [int(s) for s in sizes]
    if len(sizes) != len(node.outputs) or sum(sizes) != length or min(sizes, default=0) < 0:
        raise unsupported(f"Split node {node.name!r}: parts {sizes} of an axis of length {length}")
    return axis, sizes


def make_split(node, operands, opset):
    x = operands[0]
    axis, sizes = split_sizes(node, operands, opset)
    starts = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
    shapes = []
    for size in sizes:
        shape = list(x.shape)
        shape[axis] = size
        shapes.append(tuple(shape))

    def bind(ins, outs):
        index = [slice(None)] * len(x.shape)
        pairs = []
        for out, start, size in zip(outs, starts, sizes):
            index[axis] = slice(start, start + size)
            pairs.append((out, ins[0][tuple(index)]))

        def run():
            for out, src in pairs:
                np.copyto(out, src)
        return run

    return Kernel(shapes, [x.dtype] * len(sizes), bind)


OPS = {"Split": make_split}
