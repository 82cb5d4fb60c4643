"""An ONNX graph as plain Python: nodes in execution order, constants as numpy
arrays, declared inputs and outputs. Only the onnx protobuf is read here;
nothing runs. `onnx` is imported when a graph is read, not with this module:
a start from the plan cache, and the onnxruntime backend, never need it."""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from ..errors import ModelError
from ..model_file import first_line, not_onnx
from .errors import NativeModelError


@dataclass
class Node:
    op: str
    inputs: list        # tensor names; "" for an omitted optional input
    outputs: list
    attrs: dict = field(default_factory=dict)
    name: str = ""
    domain: str = ""
    proto: object = None    # the NodeProto read, for evaluating constants with onnx.reference

    def attr(self, key, default=None):
        return self.attrs.get(key, default)


@dataclass
class TensorInfo:
    name: str
    shape: tuple        # ints for fixed axes, None for free ones
    dtype: np.dtype


@dataclass
class Graph:
    nodes: list
    constants: dict     # name -> np.ndarray
    inputs: list        # TensorInfo of the inputs a caller feeds
    outputs: list       # TensorInfo of the graph outputs
    opset: int


def _value_info(value):
    from onnx import helper

    tensor = value.type.tensor_type
    dtype = helper.tensor_dtype_to_np_dtype(tensor.elem_type) if tensor.elem_type else \
        np.dtype(np.float32)
    shape = None
    if tensor.HasField("shape"):
        shape = tuple(d.dim_value if d.HasField("dim_value") else None
                      for d in tensor.shape.dim)
    return TensorInfo(value.name, shape, np.dtype(dtype))


def _attributes(node):
    import onnx
    from onnx import helper

    attrs = {}
    for attribute in node.attribute:
        value = helper.get_attribute_value(attribute)
        if isinstance(value, onnx.TensorProto):
            value = _tensor_values(value, f"the {attribute.name} of node {node.name!r}")
        elif isinstance(value, bytes):
            value = value.decode()
        elif isinstance(value, list) and value and isinstance(value[0], bytes):
            value = [v.decode() for v in value]
        attrs[attribute.name] = value
    return attrs


def _constant_value(node):
    attrs = _attributes(node)
    if "value" in attrs:
        return np.asarray(attrs["value"])
    for key, dtype in (("value_float", np.float32), ("value_floats", np.float32),
                       ("value_int", np.int64), ("value_ints", np.int64)):
        if key in attrs:
            return np.asarray(attrs[key], dtype=dtype)
    raise NativeModelError(f"Constant node {node.name!r} has a form the native backend does not "
                           "read (sparse or string); use --backend onnxruntime")


def read_model(source, base_dir=None):
    """A ModelProto, a path, or serialized bytes -> ModelProto with its
    external data (if any) loaded."""
    import onnx
    import onnx.external_data_helper

    origin = os.fspath(source) if isinstance(source, (str, os.PathLike)) else "the model"
    try:
        if isinstance(source, onnx.ModelProto):
            if base_dir is not None:
                onnx.external_data_helper.load_external_data_for_model(source, base_dir)
            return source
        if isinstance(source, (bytes, bytearray)):
            return onnx.load_from_string(bytes(source))
        return onnx.load(origin)
    except Exception as error:  # protobuf and onnx raise many kinds; each is a bad file
        if isinstance(error, OSError) and getattr(error, "filename", None):
            raise ModelError(f"{origin}: cannot read the external data file {error.filename} "
                             f"({error.strerror}): keep it beside the model") from None
        if origin != "the model" and os.path.isfile(origin):
            raise not_onnx(origin, first_line(error)) from None
        raise ModelError(f"{origin} is not a readable ONNX model ({first_line(error)})") from None


def _tensor_values(tensor, what):
    """A stored tensor's values; ModelError naming it when it holds fewer than it declares."""
    from onnx import numpy_helper

    try:
        return numpy_helper.to_array(tensor)
    except Exception as error:
        name = f" {tensor.name!r}" if tensor.name else ""
        raise ModelError(f"{what}{name} (shape {list(tensor.dims)}) cannot be "
                         f"read ({first_line(error)}): the file is damaged or its data "
                         "missing; export the model again") from None


def from_onnx(model, origin="the model"):
    """ModelProto -> Graph. Initializers and Constant nodes become constants."""
    import onnx

    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
    g = model.graph
    if len(g.output) == 0:
        raise ModelError(f"{origin} holds no ONNX graph (empty or not an ONNX file): export or "
                         "convert the model again")
    constants = {t.name: _tensor_values(t, f"{origin}: initializer") for t in g.initializer}
    nodes = []
    for node in g.node:
        if node.op_type == "Constant" and node.domain in ("", "ai.onnx"):
            constants[node.output[0]] = _constant_value(node)
            continue
        # a detached copy: a reference into the model would keep all its weights' bytes alive
        proto = onnx.NodeProto()
        proto.CopyFrom(node)
        nodes.append(Node(node.op_type, list(node.input), list(node.output), _attributes(node),
                          node.name, node.domain, proto))
    # before IR 4, initializers were listed among the inputs too
    inputs = [_value_info(v) for v in g.input if v.name not in constants]
    outputs = [_value_info(v) for v in g.output]
    _check_every_value_is_defined(nodes, constants, inputs, outputs, origin)
    return Graph(nodes, constants, inputs, outputs, opset)


def _check_every_value_is_defined(nodes, constants, inputs, outputs, origin):
    """Each node input comes from a graph input, a constant or an earlier node, and each
    graph output from one of them: ONNX asks the nodes to be in that order, and a name
    defined nowhere would otherwise surface only mid-run."""
    defined = set(constants) | {v.name for v in inputs} | {""}  # "": an omitted optional input
    for node in nodes:
        for name in node.inputs:
            if name not in defined:
                raise ModelError(f"{origin}: node {node.name or node.op!r} reads {name!r}, "
                                 "which no earlier node, input or initializer defines: the "
                                 "graph is damaged or out of order; export the model again")
        defined.update(node.outputs)
    for value in outputs:
        if value.name not in defined:
            raise ModelError(f"{origin}: graph output {value.name!r} is produced by no node: "
                             "the graph is damaged; export the model again")
