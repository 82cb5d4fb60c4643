"""The protobuf-free ONNX reader agrees with onnx on what a load needs:
metadata, tensors' names, types, dims and values in every storage onnx
writes, nodes, declared shapes; damaged bytes are a WireError."""
import numpy as np
import onnx
import pytest
from hypothesis import given, strategies as st
from onnx import TensorProto, helper, numpy_helper

from edgeinfer.backends.onnx_wire import Model, Tensor, WireError, fields

from tools import tiny_models


def test_metadata_opsets_and_graph_match_onnx():
    model = tiny_models.random_classifier(["a", "b"], size=(16, 16))
    model.metadata_props.add(key="other", value="x")
    wire = Model(model.SerializeToString())
    assert {k: v.decode() for k, v in wire.metadata.items()} == \
        {p.key: p.value for p in model.metadata_props}
    assert wire.opsets == {o.domain: o.version for o in model.opset_import}
    graph = wire.graph
    assert [(n.op_type, n.inputs, n.outputs) for n in graph.nodes] == \
        [(n.op_type, list(n.input), list(n.output)) for n in model.graph.node]
    assert [t.name for t in graph.initializers] == [t.name for t in model.graph.initializer]
    assert graph.inputs[0][0] == model.graph.input[0].name
    assert graph.inputs[0][1] == [None, 3, 16, 16]      # a free batch axis is None


ARRAYS = [np.arange(6, dtype=np.float32).reshape(2, 3) - 2.5,
          np.array([20000, -1, 0, 2 ** 40], np.int64),
          np.array([[1, -2], [3, 4]], np.int32),
          np.array([0, 255, 7], np.uint8),
          np.array([-128, 5], np.int8),
          np.array([1.5, -0.25], np.float64),
          np.array(3.0, np.float32)]


@pytest.mark.parametrize("raw", [True, False])
@pytest.mark.parametrize("array", ARRAYS, ids=lambda a: f"{a.dtype}{a.shape}")
def test_tensor_values_match_numpy_helper(array, raw):
    if raw:
        proto = numpy_helper.from_array(array, "t")
    else:   # the typed repeated fields (float_data, int64_data, int32_data, double_data)
        kind = helper.np_dtype_to_tensor_dtype(array.dtype)
        proto = helper.make_tensor("t", kind, array.shape, array.ravel().tolist(), raw=False)
    tensor = Tensor(proto.SerializeToString())
    assert tensor.name == "t" and tensor.dims == list(array.shape)
    np.testing.assert_array_equal(tensor.values(), numpy_helper.to_array(proto))
    assert tensor.values().dtype == array.dtype


def test_constant_node_tensor_attribute_is_read():
    node = helper.make_node("Constant", [], ["k"], name="c",
                            value=numpy_helper.from_array(np.array([1, 2], np.int64)))
    graph = helper.make_graph([node], "g", [], [helper.make_tensor_value_info(
        "k", TensorProto.INT64, [2])])
    wire = Model(helper.make_model(graph).SerializeToString())
    np.testing.assert_array_equal(wire.graph.nodes[0].tensor_attribute("value").values(), [1, 2])


def test_tensor_declaring_more_values_than_it_holds_gives_none():
    proto = numpy_helper.from_array(np.zeros(4, np.float32), "t")
    proto.dims[0] = 1000
    assert Tensor(proto.SerializeToString()).values() is None


@pytest.mark.parametrize("cut", [1, 7, 100])
def test_truncated_model_is_a_wire_error(cut):
    data = tiny_models.random_classifier(["a", "b"]).SerializeToString()
    with pytest.raises(WireError):
        Model(data[:-cut]).graph


@given(st.binary(max_size=64))
def test_arbitrary_bytes_never_raise_anything_but_wire_error(data):
    try:
        model = Model(data)
        if model.has_graph:
            model.graph
    except WireError:
        pass


def test_empty_file_has_no_graph():
    assert not Model(b"").has_graph
    assert fields(b"") == {}


@pytest.mark.parametrize("data", [
    b"=\x00\x00\x00\x00",            # the graph field (7) as a fixed32 number
    b"r\x05\x08\xff\xff\xff\x0f",    # a metadata entry (14) whose key is a varint
])
def test_a_number_where_a_message_belongs_is_a_wire_error(data):
    """Found by the property test below: the graph field given as a number raised
    TypeError from memoryview(); a number read as a string's bytes would have been
    a length to allocate."""
    with pytest.raises(WireError):
        model = Model(data)
        model.has_graph


@pytest.mark.parametrize("value", [b"", b"\x00" * 8])
def test_float_attribute_stored_as_bytes_is_a_wire_error(value):
    """A float attribute (type FLOAT) whose `f` field came as a length-delimited
    field: no bytes gave an IndexError, eight bytes two floats."""
    from edgeinfer.backends.onnx_wire import attribute

    data = b"\x0a\x01a" + b"\x12" + bytes([len(value)]) + value + b"\xa0\x01\x01"
    with pytest.raises(WireError, match="not one 4-byte float"):
        attribute(data)
