"""The few fields of an ONNX file that loading a model needs, read straight
from the protobuf wire format, without the `onnx` package: importing it costs
over a second (most of it `ml_dtypes`, which `onnx.helper` pulls in), more
than onnxruntime takes to load a model. Read here: the metadata, the opsets,
and for the memory pre-check the initializers' sizes, the nodes, the small
constant numbers and the declared value shapes. Large byte fields (weights)
are sliced, never copied or decoded."""
from __future__ import annotations

import struct

import numpy as np

# onnx.proto field numbers
MODEL_GRAPH, MODEL_OPSET, MODEL_METADATA = 7, 8, 14
GRAPH_NODE, GRAPH_INITIALIZER, GRAPH_INPUT, GRAPH_OUTPUT, GRAPH_VALUE_INFO = 1, 5, 11, 12, 13
NODE_INPUT, NODE_OUTPUT, NODE_NAME, NODE_OP, NODE_ATTRIBUTE, NODE_DOMAIN = 1, 2, 3, 4, 5, 7
ATTR_NAME, ATTR_TENSOR = 1, 5
TENSOR_DIMS, TENSOR_TYPE, TENSOR_FLOATS, TENSOR_INT32S, TENSOR_INT64S = 1, 2, 4, 5, 7
TENSOR_NAME, TENSOR_RAW, TENSOR_DOUBLES, TENSOR_LOCATION = 8, 9, 10, 14
EXTERNAL = 1

# TensorProto.DataType -> numpy dtype; the float8/4-bit kinds stand in as a type of
# their size (their values are never read here, only their byte counts)
DTYPES = {1: np.float32, 2: np.uint8, 3: np.int8, 4: np.uint16, 5: np.int16, 6: np.int32,
          7: np.int64, 9: np.bool_, 10: np.float16, 11: np.float64, 12: np.uint32,
          13: np.uint64, 14: np.complex64, 15: np.complex128, 16: np.uint16, 17: np.uint8,
          18: np.uint8, 19: np.uint8, 20: np.uint8, 21: np.uint8, 22: np.uint8, 23: np.uint8}


class WireError(ValueError):
    """Bytes that are not a well-formed protobuf message."""


def _varint(data, at):
    value, shift = 0, 0
    while True:
        if at >= len(data):
            raise WireError("truncated varint")
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, at
        shift += 7
        if shift > 63:
            raise WireError("varint longer than 10 bytes")


def _payload(value):
    """A length-delimited field's bytes. A damaged file can put a number where a
    message or string belongs; read as bytes, that number would be a length to
    allocate."""
    if isinstance(value, int):
        raise WireError("a number where a message or string belongs")
    return value


def fields(data):
    """{field number: [values]}: ints for numeric fields, memoryviews for
    length-delimited ones (messages, strings, bytes, packed numbers)."""
    data = memoryview(_payload(data))
    found = {}
    at, end = 0, len(data)
    while at < end:
        key, at = _varint(data, at)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, at = _varint(data, at)
        elif wire == 1:
            value, at = int.from_bytes(data[at:at + 8], "little"), at + 8
        elif wire == 2:
            size, at = _varint(data, at)
            value, at = data[at:at + size], at + size
        elif wire == 5:
            value, at = int.from_bytes(data[at:at + 4], "little"), at + 4
        else:
            raise WireError(f"unknown wire type {wire}")
        if at > end or number == 0:
            raise WireError("truncated message" if at > end else "field number 0")
        found.setdefault(number, []).append(value)
    return found


def _text(value):
    return bytes(_payload(value)).decode("utf-8", "replace")


def _signed(value):
    return value - (1 << 64) if value >= 1 << 63 else value


def _ints(values):
    """A repeated int64 field, packed or not."""
    out = []
    for value in values:
        if isinstance(value, int):
            out.append(_signed(value))
            continue
        at = 0
        while at < len(value):
            number, at = _varint(value, at)
            out.append(_signed(number))
    return out


class Tensor:
    """A TensorProto's name, type, dims and, on demand, its values."""

    def __init__(self, data):
        f = fields(data)
        self.fields = f
        self.name = _text(f.get(TENSOR_NAME, [b""])[0])
        self.dims = _ints(f.get(TENSOR_DIMS, []))
        self.data_type = f.get(TENSOR_TYPE, [0])[0]
        self.external = f.get(TENSOR_LOCATION, [0])[0] == EXTERNAL
        self.dtype = np.dtype(DTYPES.get(self.data_type, np.float32))

    def values(self):
        """The values as a numpy array, or None for a storage this reader does not
        decode (strings, external data, 4-bit and float8 kinds, damaged data)."""
        count = int(np.prod(self.dims, dtype=np.int64)) if self.dims else 1
        f, dtype = self.fields, self.dtype
        if self.external or self.data_type not in range(1, 14) or self.data_type == 8:
            return None
        try:
            if TENSOR_RAW in f:
                array = np.frombuffer(f[TENSOR_RAW][0], dtype=dtype.newbyteorder("<"))
            elif TENSOR_FLOATS in f and dtype == np.float32:
                array = np.frombuffer(b"".join(bytes(v) if not isinstance(v, int) else
                                               struct.pack("<I", v) for v in f[TENSOR_FLOATS]),
                                      "<f4")
            elif TENSOR_DOUBLES in f:
                array = np.frombuffer(b"".join(bytes(v) if not isinstance(v, int) else
                                               struct.pack("<Q", v) for v in f[TENSOR_DOUBLES]),
                                      "<f8")
            elif TENSOR_INT64S in f:
                array = np.array(_ints(f[TENSOR_INT64S]), np.int64)
            elif TENSOR_INT32S in f:
                array = np.array(_ints(f[TENSOR_INT32S]), np.int64)
            else:
                array = np.zeros(0, dtype)
            if array.size != count:
                return None
            return array.astype(dtype).reshape(self.dims)
        except (ValueError, TypeError, OverflowError):
            return None


class Node:
    def __init__(self, data):
        f = fields(data)
        self.inputs = [_text(v) for v in f.get(NODE_INPUT, [])]
        self.outputs = [_text(v) for v in f.get(NODE_OUTPUT, [])]
        self.name = _text(f.get(NODE_NAME, [b""])[0])
        self.op_type = _text(f.get(NODE_OP, [b""])[0])
        self.domain = _text(f.get(NODE_DOMAIN, [b""])[0])
        self._attributes = f.get(NODE_ATTRIBUTE, [])

    def tensor_attribute(self, name):
        """The Tensor held by attribute `name`, or None."""
        for data in self._attributes:
            f = fields(data)
            if _text(f.get(ATTR_NAME, [b""])[0]) == name and ATTR_TENSOR in f:
                return Tensor(f[ATTR_TENSOR][0])
        return None


def value_shape(data):
    """(name, dims with None for free axes or None for no shape, elem_type) of a ValueInfoProto."""
    f = fields(data)
    name = _text(f.get(1, [b""])[0])
    tensor = fields(fields(f[2][0]).get(1, [b""])[0]) if 2 in f else {}
    elem_type = tensor.get(1, [0])[0]
    if 2 not in tensor:
        return name, None, elem_type
    dims = []
    for dim in fields(tensor[2][0]).get(1, []):
        values = fields(dim)
        dims.append(_signed(values[1][0]) if 1 in values else None)
    return name, dims, elem_type


class Graph:
    def __init__(self, data):
        f = fields(data)
        self.nodes = [Node(v) for v in f.get(GRAPH_NODE, [])]
        self.initializers = [Tensor(v) for v in f.get(GRAPH_INITIALIZER, [])]
        self.inputs = [value_shape(v) for v in f.get(GRAPH_INPUT, [])]
        self.outputs = [value_shape(v) for v in f.get(GRAPH_OUTPUT, [])]
        self.value_info = [value_shape(v) for v in f.get(GRAPH_VALUE_INFO, [])]


class Model:
    """An ONNX ModelProto's top level; the graph is decoded on first use."""

    def __init__(self, data):
        f = fields(data)
        self.metadata = {}
        for entry in f.get(MODEL_METADATA, []):
            pair = fields(entry)
            key = _text(pair.get(1, [b""])[0])
            self.metadata.setdefault(key, bytes(_payload(pair.get(2, [b""])[0])))
        self.opsets = {}
        for entry in f.get(MODEL_OPSET, []):
            pair = fields(entry)
            self.opsets[_text(pair.get(1, [b""])[0])] = pair.get(2, [0])[0]
        graphs = f.get(MODEL_GRAPH, [])
        self._graph_bytes = graphs[-1] if graphs else None
        self._graph = None

    @property
    def has_graph(self):
        """True when the file holds a graph with at least one node and one output."""
        if self._graph_bytes is None:
            return False
        top = fields(self._graph_bytes)   # tags only: nodes and weights stay undecoded
        return GRAPH_NODE in top and GRAPH_OUTPUT in top

    @property
    def graph(self):
        if self._graph is None:
            self._graph = Graph(self._graph_bytes if self._graph_bytes is not None else b"")
        return self._graph
