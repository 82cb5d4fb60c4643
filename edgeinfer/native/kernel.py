"""What an operator gives the planner: output shapes and types found at load,
and a bind step that turns fixed input and output buffers into a call that
allocates nothing."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from .errors import unsupported

FLOAT = np.dtype(np.float32)


@dataclass
class Kernel:
    shapes: list                    # output shapes
    dtypes: list                    # output numpy dtypes
    # (inputs, outputs) -> a call with no arguments that fills the outputs
    bind: Optional[Callable] = None
    # output 0 is input `view_of` reshaped: no work, no buffer of its own
    view_of: Optional[int] = None


@dataclass
class Operand:
    """An input as an operator factory sees it at load."""
    shape: tuple
    dtype: np.dtype
    value: Optional[np.ndarray] = None     # set when the input is a constant

    @property
    def constant(self):
        return self.value is not None


def view(shape, dtype):
    return Kernel([tuple(shape)], [np.dtype(dtype)], view_of=0)


def require_float(node, operands, which=None):
    for i, operand in enumerate(operands):
        if operand is None or (which is not None and i not in which):
            continue
        if operand.dtype != FLOAT:
            raise unsupported(f"{node.op} node {node.name!r} on {operand.dtype} tensors "
                              "(float32 only)")


def require_constant(node, operand, what):
    if operand is None or not operand.constant:
        raise unsupported(f"{node.op} node {node.name!r} whose {what} is computed at run time")
    return operand.value


def optional_input(operands, index):
    return operands[index] if index < len(operands) else None


def normalise_axis(axis, rank):
    return axis + rank if axis < 0 else axis


def flat(array):
    """A 1-D view (the planner's buffers are always contiguous)."""
    return array.reshape(-1)
