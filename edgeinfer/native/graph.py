"""An ONNX graph as plain Python: nodes in execution order, constants as numpy
arrays, declared inputs and outputs. Read from the file's protobuf fields by
backends/onnx_wire.py, not with the `onnx` package (whose import costs more
than the whole native load); nothing runs here."""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from ..backends.onnx_wire import VALUE_TYPES, type_name
from ..errors import ModelError
from .errors import ADVICE, NativeModelError


@dataclass
class Node:
    op: str
    inputs: list        # tensor names; "" for an omitted optional input
    outputs: list
    attrs: dict = field(default_factory=dict)
    name: str = ""
    domain: str = ""
    encoded: bytes = b""    # the NodeProto's bytes, for what only onnx evaluates (see proto)

    def attr(self, key, default=None):
        return self.attrs.get(key, default)

    @property
    def proto(self):
        """The onnx.NodeProto, for onnx.reference and shape inference on the rare
        node the backend folds or follows through onnx (imports onnx)."""
        import onnx

        return onnx.NodeProto.FromString(self.encoded)


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


def numpy_type(data_type, what):
    """The numpy dtype of an ONNX element type (0, unset, reads as float32)."""
    if data_type == 0:
        return np.dtype(np.float32)
    if data_type not in VALUE_TYPES:
        raise NativeModelError(f"{what} is {type_name(data_type)}, which the native backend "
                               f"does not run; {ADVICE}")
    return np.dtype(VALUE_TYPES[data_type])


def _value_info(value, what):
    name, dims, elem_type = value
    return TensorInfo(name, None if dims is None else tuple(dims),
                      numpy_type(elem_type, f"{what} {name!r}"))


def _external_bytes(tensor, base_dir, what):
    """The bytes of a tensor kept in a file beside the model, read no further than
    the tensor's own size (a damaged length must not size a read)."""
    entries = tensor.external_data()
    location = entries.get("location", "")
    if base_dir is None or not location or os.path.isabs(location) or \
            ".." in location.replace("\\", "/").split("/"):
        raise ModelError(f"{what} keeps its data in {location!r}, which cannot be read from "
                         "here: keep the data file beside the model and load it by its path")
    path = os.path.join(base_dir, location)
    try:
        offset = int(entries.get("offset", 0))
        nbytes = int(np.prod(tensor.dims, dtype=np.int64)) * tensor.dtype.itemsize
        length = int(entries.get("length", nbytes))
        with open(path, "rb") as f:
            if offset < 0 or length != nbytes or offset + length > os.fstat(f.fileno()).st_size:
                raise ModelError(f"{what}: {path} does not hold the {nbytes} bytes at offset "
                                 f"{offset} the model declares: the data file is damaged or "
                                 "from another export; export the model again")
            f.seek(offset)
            return f.read(length)
    except OSError as error:
        raise ModelError(f"{what}: cannot read the external data file {path} "
                         f"({error.strerror}): keep it beside the model") from None
    except ValueError:
        raise ModelError(f"{what}: its external data entry is damaged; export the model "
                         "again") from None


def _tensor_values(tensor, what, base_dir=None):
    """A stored tensor's values; ModelError naming it when it holds fewer than it declares."""
    what = f"{what} {tensor.name!r}" if tensor.name else what
    numpy_type(tensor.data_type, what)
    raw = _external_bytes(tensor, base_dir, what) if tensor.external else None
    values = tensor.values(raw)
    if values is None:
        raise ModelError(f"{what} (shape {list(tensor.dims)}) cannot be read: the file is "
                         "damaged or its data missing; export the model again")
    return values


def _attributes(node, base_dir):
    attrs = node.attributes()
    for key, value in attrs.items():
        if hasattr(value, "dims"):      # a tensor
            attrs[key] = _tensor_values(value, f"the {key} of node {node.name!r}", base_dir)
    return attrs


def _constant_value(node, attrs):
    if attrs.get("value") is not None:
        return np.asarray(attrs["value"])
    for key, dtype in (("value_float", np.float32), ("value_floats", np.float32),
                       ("value_int", np.int64), ("value_ints", np.int64)):
        if key in attrs:
            return np.asarray(attrs[key], dtype=dtype)
    raise NativeModelError(f"Constant node {node.name!r} has a form the native backend does not "
                           f"read (sparse or string); {ADVICE}")


def from_wire(model, origin="the model", base_dir=None):
    """onnx_wire.Model -> Graph. Initializers and Constant nodes become constants;
    external data is read from base_dir (the model file's folder). WireError for
    bytes that are not protobuf, ModelError for a graph that breaks ONNX's rules."""
    opset = model.opsets.get("", model.opsets.get("ai.onnx", 0))
    g = model.graph
    if not g.outputs:
        raise ModelError(f"{origin} holds no ONNX graph (empty or not an ONNX file): export or "
                         "convert the model again")
    constants = {t.name: _tensor_values(t, f"{origin}: initializer", base_dir)
                 for t in g.initializers}
    nodes = []
    for node in g.nodes:
        attrs = _attributes(node, base_dir)
        if node.op_type == "Constant" and node.domain in ("", "ai.onnx"):
            if node.outputs:
                constants[node.outputs[0]] = _constant_value(node, attrs)
            continue
        # the node's bytes copied: a slice of the file would keep all its weights alive
        nodes.append(Node(node.op_type, node.inputs, node.outputs, attrs, node.name,
                          node.domain, bytes(node.data)))
    # before IR 4, initializers were listed among the inputs too
    inputs = [_value_info(v, "input") for v in g.inputs if v[0] not in constants]
    outputs = [_value_info(v, "output") for v in g.outputs]
    _check_every_value_is_defined(nodes, constants, inputs, outputs, origin)
    return Graph(nodes, constants, inputs, outputs, opset)


def read_graph(model_file):
    """The Graph of a model_file.ModelFile; one ModelError for any damage."""
    base_dir = None if model_file.path is None else (os.path.dirname(model_file.path) or ".")
    with model_file.reading():
        return from_wire(model_file.wire, model_file.origin, base_dir)


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
