"""An ONNX file read straight from the protobuf wire format, without the `onnx`
package: importing it costs over a second (most of it `ml_dtypes`, which
`onnx.helper` pulls in), more than onnxruntime takes to load a model. Read
here: the metadata, the opsets, the graph's nodes with their attributes, the
initializers and the declared value shapes; enough for the onnxruntime
backend's memory pre-check and for the native backend to build its graph.
Large byte fields (weights) are sliced, never copied, until their values are
asked for; a length or count in the file is never trusted to size anything
before the bytes it claims are there."""
from __future__ import annotations

import struct

import numpy as np

# onnx.proto field numbers
MODEL_GRAPH, MODEL_OPSET, MODEL_METADATA = 7, 8, 14
GRAPH_NODE, GRAPH_INITIALIZER, GRAPH_INPUT, GRAPH_OUTPUT, GRAPH_VALUE_INFO = 1, 5, 11, 12, 13
NODE_INPUT, NODE_OUTPUT, NODE_NAME, NODE_OP, NODE_ATTRIBUTE, NODE_DOMAIN = 1, 2, 3, 4, 5, 7
ATTR_NAME, ATTR_FLOAT, ATTR_INT, ATTR_STRING, ATTR_TENSOR = 1, 2, 3, 4, 5
ATTR_FLOATS, ATTR_INTS, ATTR_STRINGS, ATTR_TYPE, ATTR_REF = 7, 8, 9, 20, 21
TENSOR_DIMS, TENSOR_TYPE, TENSOR_FLOATS, TENSOR_INT32S, TENSOR_INT64S = 1, 2, 4, 5, 7
TENSOR_NAME, TENSOR_RAW, TENSOR_DOUBLES, TENSOR_UINT64S = 8, 9, 10, 11
TENSOR_EXTERNAL_DATA, TENSOR_LOCATION = 13, 14
EXTERNAL = 1

# TensorProto.DataType -> numpy dtype; the float8/4-bit kinds stand in as a type of
# their size (their values are never read here, only their byte counts)
DTYPES = {1: np.float32, 2: np.uint8, 3: np.int8, 4: np.uint16, 5: np.int16, 6: np.int32,
          7: np.int64, 9: np.bool_, 10: np.float16, 11: np.float64, 12: np.uint32,
          13: np.uint64, 14: np.complex64, 15: np.complex128, 16: np.uint16, 17: np.uint8,
          18: np.uint8, 19: np.uint8, 20: np.uint8, 21: np.uint8, 22: np.uint8, 23: np.uint8}
# the kinds whose values are read (numpy has a type for each), and the field each
# is kept in when not as raw bytes
VALUE_TYPES = {1: np.float32, 2: np.uint8, 3: np.int8, 4: np.uint16, 5: np.int16, 6: np.int32,
               7: np.int64, 9: np.bool_, 10: np.float16, 11: np.float64, 12: np.uint32,
               13: np.uint64}
TYPED_FIELD = {1: TENSOR_FLOATS, 7: TENSOR_INT64S, 11: TENSOR_DOUBLES, 12: TENSOR_UINT64S,
               13: TENSOR_UINT64S}   # the rest: int32_data
TYPE_NAMES = {8: "string", 14: "complex64", 15: "complex128", 16: "bfloat16",
              17: "float8e4m3fn", 18: "float8e4m3fnuz", 19: "float8e5m2", 20: "float8e5m2fnuz",
              21: "uint4", 22: "int4", 23: "float4e2m1"}


def type_name(data_type):
    """A TensorProto data type's name, for messages."""
    if data_type in VALUE_TYPES:
        return np.dtype(VALUE_TYPES[data_type]).name
    return TYPE_NAMES.get(data_type, f"data type {data_type}")


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


def _number(value):
    """A numeric field's value; a string or message where a number belongs is damage."""
    if not isinstance(value, int):
        raise WireError("a string or message where a number belongs")
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
    value = _number(value)
    return value - (1 << 64) if value >= 1 << 63 else value


def _ints(values, signed=True):
    """A repeated integer field, packed or not."""
    out = []
    for value in values:
        if isinstance(value, int):
            out.append(_signed(value) if signed else value)
            continue
        at = 0
        while at < len(value):
            number, at = _varint(value, at)
            out.append(_signed(number) if signed else number)
    return out


def _fixed(values, code):
    """A repeated fixed-width field (float, double), packed or not, as its bytes."""
    return b"".join(struct.pack(code, v) if isinstance(v, int) else bytes(v) for v in values)


def _typed_values(f, data_type):
    """The values of a tensor kept in its typed repeated field, as a flat array."""
    field = TYPED_FIELD.get(data_type, TENSOR_INT32S)
    values = f.get(field, [])
    if field == TENSOR_FLOATS:
        return np.frombuffer(_fixed(values, "<I"), "<f4")
    if field == TENSOR_DOUBLES:
        return np.frombuffer(_fixed(values, "<Q"), "<f8")
    if field == TENSOR_UINT64S:
        return np.array(_ints(values, signed=False), np.uint64)
    array = np.array(_ints(values), np.int64)
    if data_type == 10:     # float16 is kept as its 16 bits in int32_data
        return array.astype(np.uint16).view(np.float16)
    return array


class Tensor:
    """A TensorProto's name, type, dims and, on demand, its values."""

    def __init__(self, data):
        f = fields(data)
        self.fields = f
        self.name = _text(f.get(TENSOR_NAME, [b""])[-1])
        self.dims = _ints(f.get(TENSOR_DIMS, []))
        self.data_type = _number(f.get(TENSOR_TYPE, [0])[-1])
        self.external = _number(f.get(TENSOR_LOCATION, [0])[-1]) == EXTERNAL
        self.dtype = np.dtype(DTYPES.get(self.data_type, np.float32))

    @property
    def readable(self):
        """True for a kind whose values this reader decodes (numbers and booleans)."""
        return self.data_type in VALUE_TYPES

    def external_data(self):
        """{key: value} of the external_data entries (location, offset, length)."""
        entries = {}
        for entry in self.fields.get(TENSOR_EXTERNAL_DATA, []):
            pair = fields(entry)
            entries[_text(pair.get(1, [b""])[-1])] = _text(pair.get(2, [b""])[-1])
        return entries

    def values(self, raw=None):
        """The values as a new numpy array, or None for a storage this reader does not
        decode (strings, 4-bit and float8 kinds, external data unless given as `raw`)
        or values that do not fill the declared dims."""
        if not self.readable or (self.external and raw is None):
            return None
        f, dtype = self.fields, self.dtype
        try:
            count = int(np.prod(self.dims, dtype=np.int64)) if self.dims else 1
            if raw is not None or TENSOR_RAW in f:
                raw = f[TENSOR_RAW][-1] if raw is None else raw
                array = np.frombuffer(raw, dtype=dtype.newbyteorder("<"))
            else:
                array = _typed_values(f, self.data_type)
            if array.size != count:
                return None
            return array.astype(dtype).reshape(self.dims)
        except (ValueError, TypeError, OverflowError, struct.error):
            return None


def _floats(values):
    try:
        return np.frombuffer(_fixed(values, "<I"), "<f4").tolist()
    except (ValueError, struct.error):
        raise WireError("a float field that is not 4-byte floats") from None


def attribute(data):
    """(name, value) of an AttributeProto, valued as onnx.helper.get_attribute_value
    gives it but with strings decoded and a tensor as a Tensor; None for the kinds
    no operator read here takes (graphs, sparse tensors, type protos, lists of
    tensors, references to a function's attributes)."""
    f = fields(data)
    name = _text(f.get(ATTR_NAME, [b""])[-1])
    kind = _number(f.get(ATTR_TYPE, [0])[-1])
    if f.get(ATTR_REF):
        return name, None
    if kind == 1:
        single = _floats(f.get(ATTR_FLOAT, [0])[-1:])
        if len(single) != 1:
            raise WireError("a float attribute that is not one 4-byte float")
        return name, single[0]
    if kind == 2:
        return name, _signed(f.get(ATTR_INT, [0])[-1])
    if kind == 3:
        return name, _text(f.get(ATTR_STRING, [b""])[-1])
    if kind == 4:
        return name, Tensor(f.get(ATTR_TENSOR, [b""])[-1])
    if kind == 6:
        return name, _floats(f.get(ATTR_FLOATS, []))
    if kind == 7:
        return name, _ints(f.get(ATTR_INTS, []))
    if kind == 8:
        return name, [_text(v) for v in f.get(ATTR_STRINGS, [])]
    return name, None


class Node:
    """A NodeProto's fields; `data` is its bytes (a slice of the file's)."""

    def __init__(self, data):
        f = fields(data)
        self.data = data
        self.inputs = [_text(v) for v in f.get(NODE_INPUT, [])]
        self.outputs = [_text(v) for v in f.get(NODE_OUTPUT, [])]
        self.name = _text(f.get(NODE_NAME, [b""])[-1])
        self.op_type = _text(f.get(NODE_OP, [b""])[-1])
        self.domain = _text(f.get(NODE_DOMAIN, [b""])[-1])
        self._attributes = f.get(NODE_ATTRIBUTE, [])

    def attributes(self):
        """{name: value} of every attribute (see `attribute`)."""
        return dict(attribute(data) for data in self._attributes)

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
    elem_type = _number(tensor.get(1, [0])[-1])
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
            self.opsets[_text(pair.get(1, [b""])[0])] = _number(pair.get(2, [0])[0])
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
