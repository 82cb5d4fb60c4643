"""What an ONNX model will hold in memory, read off the file before
onnxruntime creates a session (which folds constants, so a 1 KB file can make
it allocate gigabytes): initializer sizes, the tensors ConstantOfShape /
Expand / Tile / Range make from constant numbers, and every value whose
shape is static. Each is checked against memory_limit."""
from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper

from .. import memory_limit

SHAPE_MAKERS = {"ConstantOfShape", "Expand", "Tile", "Range"}
SMALL = 1 << 16   # bytes: a shape or repeats tensor is tiny; larger ones are not read here


def _dtype(elem_type, default=np.float32):
    try:
        return np.dtype(helper.tensor_dtype_to_np_dtype(elem_type))
    except (KeyError, TypeError, ValueError):
        return np.dtype(default)


def _stored_bytes(tensor):
    return memory_limit.tensor_bytes(tensor.dims, _dtype(tensor.data_type))


def _numbers(graph):
    """Small constant tensors (initializers and Constant nodes) by name."""
    values = {}
    tensors = [(t.name, t) for t in graph.initializer]
    tensors += [(n.output[0], a.t) for n in graph.node if n.op_type == "Constant"
                for a in n.attribute if a.name == "value" and a.type == onnx.AttributeProto.TENSOR]
    for name, tensor in tensors:
        if _stored_bytes(tensor) <= SMALL and tensor.data_location != onnx.TensorProto.EXTERNAL:
            try:
                values[name] = numpy_helper.to_array(tensor)
            except Exception:  # a damaged tensor is onnxruntime's to report
                pass
    return values


def _static_shapes(model):
    """{value name: (dims, dtype)} for values whose every axis is fixed, after
    ONNX shape inference with constant propagation."""
    try:
        inferred = onnx.shape_inference.infer_shapes(model, data_prop=True)
    except Exception:  # a graph inference cannot follow: the other checks still hold
        inferred = model
    found = {}
    for value in list(inferred.graph.value_info) + list(inferred.graph.output):
        tensor = value.type.tensor_type
        dims = [d.dim_value if d.HasField("dim_value") else None for d in tensor.shape.dim]
        if tensor.HasField("shape") and all(d is not None for d in dims):
            found[value.name] = (dims, _dtype(tensor.elem_type))
    return found


def check_model_memory(model, origin):
    """ModelError (one line naming the initializer or node and the size) when the
    model would hold more than the memory limit."""
    graph = model.graph
    total = 0
    for tensor in graph.initializer:
        nbytes = _stored_bytes(tensor)
        memory_limit.check(nbytes, f"initializer {tensor.name!r}", origin)
        total += nbytes
    memory_limit.check(total, "the initializers together", origin)
    numbers = _numbers(graph)
    static = _static_shapes(model)
    for node in graph.node:
        what = f"node {node.name or node.output[0]!r} ({node.op_type})"
        if node.op_type in SHAPE_MAKERS and all(name in numbers for name in node.input[1:]) \
                and (node.op_type != "ConstantOfShape" or node.input[0] in numbers):
            first = node.input[0] if node.input else ""
            shape_of_first = static.get(first, (np.shape(numbers.get(first, ())), None))[0]
            shape = memory_limit.made_shape(node.op_type, shape_of_first,
                                            [numbers.get(name) for name in node.input])
            if shape is not None:
                memory_limit.check(memory_limit.tensor_bytes(shape, np.float32),
                                   f"the output of {what}", origin)
        for name in node.output:
            if name in static:
                memory_limit.check(memory_limit.tensor_bytes(*static[name]),
                                   f"the output of {what}", origin)
