"""What an ONNX model will hold in memory, read off the file before
onnxruntime creates a session (which folds constants, so a 1 KB file can make
it allocate gigabytes): initializer sizes, the tensors ConstantOfShape /
Expand / Tile / Range make from constant numbers, and every value whose
shape is static. Each is checked against memory_limit.

The file is read with the protobuf-free reader (onnx_wire), so the check
costs no `import onnx`; the static shapes come from ONNX's own shape
inference, called through onnx's compiled extension alone (see
static_shape_inference)."""
from __future__ import annotations

import numpy as np

from .. import memory_limit
from .onnx_wire import DTYPES, Model, fields, value_shape

SHAPE_MAKERS = {"ConstantOfShape", "Expand", "Tile", "Range"}
SMALL = 1 << 16   # bytes: a shape or repeats tensor is tiny; larger ones are not read here


def _stored_bytes(tensor):
    return memory_limit.tensor_bytes(tensor.dims, tensor.dtype)


def _numbers(graph):
    """Small constant tensors (initializers and Constant nodes) by name."""
    tensors = [(t.name, t) for t in graph.initializers]
    tensors += [(n.outputs[0], n.tensor_attribute("value")) for n in graph.nodes
                if n.op_type == "Constant" and n.outputs]
    values = {}
    for name, tensor in tensors:
        if tensor is not None and _stored_bytes(tensor) <= SMALL:
            array = tensor.values()   # None for a damaged tensor: onnxruntime's to report
            if array is not None:
                values[name] = array
    return values


def static_shape_inference():
    """onnx's C++ shape inference, serialized model in and out, loaded without
    the onnx Python package (whose import costs over a second, for helpers this
    check does not use); None when onnx is not installed."""
    import importlib.machinery
    import importlib.util
    import sys

    name = "onnx.onnx_cpp2py_export"
    module = sys.modules.get(name)
    if module is None:
        package = importlib.util.find_spec("onnx")
        if package is None or not package.submodule_search_locations:
            return None
        # by its full name: the extension registers its submodules (defs, checker ...)
        # under it, and onnx itself, imported later, finds them there
        spec = importlib.machinery.PathFinder.find_spec(name, package.submodule_search_locations)
        if spec is None:
            return None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules[name] = module
    return module.shape_inference.infer_shapes


def _static_shapes(data):
    """{value name: (dims, dtype)} for values whose every axis is fixed, after
    ONNX shape inference with constant propagation."""
    try:
        infer = static_shape_inference()
        # (model bytes, check_type, strict_mode, data_prop)
        inferred = fields(infer(bytes(data), False, False, True)) if infer else {}
        graph = fields(inferred[7][0]) if 7 in inferred else {}
    except Exception:  # a graph inference cannot follow: the other checks still hold
        graph = {}
    found = {}
    for value in graph.get(13, []) + graph.get(12, []):
        name, dims, elem_type = value_shape(value)
        if dims is not None and all(d is not None for d in dims):
            found[name] = (dims, np.dtype(DTYPES.get(elem_type, np.float32)))
    return found


def check_model_memory(data, origin, model=None):
    """ModelError (one line naming the initializer or node and the size) when the
    model in `data` (serialized ONNX) would hold more than the memory limit."""
    graph = (model or Model(data)).graph
    total = 0
    for tensor in graph.initializers:
        nbytes = _stored_bytes(tensor)
        memory_limit.check(nbytes, f"initializer {tensor.name!r}", origin)
        total += nbytes
    memory_limit.check(total, "the initializers together", origin)
    numbers = _numbers(graph)
    static = _static_shapes(data)
    for node in graph.nodes:
        what = f"node {node.name or (node.outputs or [''])[0]!r} ({node.op_type})"
        if node.op_type in SHAPE_MAKERS and all(name in numbers for name in node.inputs[1:]) \
                and (node.op_type != "ConstantOfShape" or node.inputs[0] in numbers):
            first = node.inputs[0] if node.inputs else ""
            shape_of_first = static.get(first, (np.shape(numbers.get(first, ())), None))[0]
            shape = memory_limit.made_shape(node.op_type, shape_of_first,
                                            [numbers.get(name) for name in node.inputs])
            if shape is not None:
                memory_limit.check(memory_limit.tensor_bytes(shape, np.float32),
                                   f"the output of {what}", origin)
        for name in node.outputs:
            if name in static:
                memory_limit.check(memory_limit.tensor_bytes(*static[name]),
                                   f"the output of {what}", origin)
