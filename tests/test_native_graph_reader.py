"""The native backend reads its graph with the protobuf wire reader
(backends/onnx_wire.py), not the `onnx` package. Whatever onnx itself parses
from the same bytes — nodes, attributes, initializers and Constant values in
every storage, declared inputs and outputs — the reader must give the same,
on the repo's models, on every ONNX backend test model, and on random
graphs; damaged bytes are one ModelError, never another exception."""
import glob
import os

import numpy as np
import onnx
import pytest
from hypothesis import given, settings, strategies as st
from onnx import TensorProto, helper, numpy_helper

from edgeinfer.backends.onnx_wire import VALUE_TYPES, Model as WireModel
from edgeinfer.errors import ModelError
from edgeinfer.model_file import open_model_file
from edgeinfer.native.errors import NativeModelError
from edgeinfer.native.graph import from_wire, read_graph

from tools import small_cnns, tiny_models

BACKEND_TESTS = sorted(glob.glob(os.path.join(os.path.dirname(onnx.__file__), "backend", "test",
                                              "data", "**", "*.onnx"), recursive=True))


def onnx_value(value):
    """An attribute value as onnx.helper gives it, in the reader's terms."""
    if isinstance(value, onnx.TensorProto):
        return numpy_helper.to_array(value)
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, list) and value and isinstance(value[0], bytes):
        return [v.decode() for v in value]
    if isinstance(value, (float, int, str)) or (isinstance(value, list) and all(
            isinstance(v, (float, int)) for v in value)):
        return value
    return None     # graphs, sparse tensors, type protos: not read by the native backend


def onnx_graph(model):
    """(nodes, constants, inputs, outputs, opset) as onnx parses them."""
    g = model.graph
    constants = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    nodes = []
    for node in g.node:
        attrs = {a.name: onnx_value(helper.get_attribute_value(a)) for a in node.attribute}
        if node.op_type == "Constant" and node.domain in ("", "ai.onnx"):
            key = next(iter(attrs))
            constants[node.output[0]] = np.asarray(
                attrs[key], dtype={"value_float": np.float32, "value_floats": np.float32,
                                   "value_int": np.int64, "value_ints": np.int64}.get(key))
            continue
        nodes.append((node.op_type, list(node.input), list(node.output), attrs, node.name,
                      node.domain, node.SerializeToString()))

    def info(value):
        tensor = value.type.tensor_type
        shape = tuple(d.dim_value if d.HasField("dim_value") else None
                      for d in tensor.shape.dim) if tensor.HasField("shape") else None
        dtype = helper.tensor_dtype_to_np_dtype(tensor.elem_type) if tensor.elem_type else \
            np.float32
        return value.name, shape, np.dtype(dtype)

    inputs = [info(v) for v in g.input if v.name not in constants]
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
    return nodes, constants, inputs, [info(v) for v in g.output], opset


def assert_same_value(ours, theirs):
    if isinstance(theirs, np.ndarray):
        assert isinstance(ours, np.ndarray) and ours.dtype == theirs.dtype
        np.testing.assert_array_equal(ours, theirs)
        assert ours.flags.writeable     # kernels may take it as a writable buffer
    else:
        assert ours == theirs


def assert_reads_as_onnx_does(model):
    expected_nodes, constants, inputs, outputs, opset = onnx_graph(model)
    graph = from_wire(WireModel(model.SerializeToString()))
    assert graph.opset == opset
    assert [(t.name, t.shape, t.dtype) for t in graph.inputs] == inputs
    assert [(t.name, t.shape, t.dtype) for t in graph.outputs] == outputs
    assert sorted(graph.constants) == sorted(constants)
    for name, value in constants.items():
        assert_same_value(graph.constants[name], value)
    assert len(graph.nodes) == len(expected_nodes)
    for node, (op, ins, outs, attrs, name, domain, encoded) in zip(graph.nodes, expected_nodes):
        assert (node.op, node.inputs, node.outputs, node.name, node.domain) == \
            (op, ins, outs, name, domain)
        assert sorted(node.attrs) == sorted(attrs)
        for key, value in attrs.items():
            assert_same_value(node.attrs[key], value)
        assert node.encoded == encoded


REPO_MODELS = {"random_classifier": lambda: tiny_models.random_classifier(["a", "b", "c"]),
               "channel_means": tiny_models.channel_means,
               "sensor_channel_means": tiny_models.sensor_channel_means,
               "mobilenet_like": lambda: tiny_models.mobilenet_like(classes=10, size=32,
                                                                    width=0.25),
               "mobile_cnn": small_cnns.mobile_cnn,
               "legacy_same_padding_cnn": small_cnns.legacy_same_padding_cnn,
               "keras_style_cnn": small_cnns.keras_style_cnn,
               "sensor_cnn": small_cnns.sensor_cnn}


@pytest.mark.parametrize("name", sorted(REPO_MODELS))
def test_repo_models_read_as_onnx_reads_them(name):
    assert_reads_as_onnx_does(REPO_MODELS[name]())


def test_every_onnx_backend_test_model_reads_as_onnx_reads_it():
    """The ~150 models the onnx wheel ships for backend tests (PyTorch-converted
    operators and networks, simple and light graphs); a kind the native backend has
    no numpy type for is refused by name instead."""
    assert len(BACKEND_TESTS) > 100
    refused = 0
    for path in BACKEND_TESTS:
        model = onnx.load(path)
        try:
            assert_reads_as_onnx_does(model)
        except NativeModelError as error:
            assert "which the native backend does not run" in str(error), path
            refused += 1
        except AssertionError as error:
            raise AssertionError(f"{path}: {error}") from None
    assert refused < len(BACKEND_TESTS) // 5


# --- random graphs -----------------------------------------------------------------
DTYPES = [np.dtype(t) for t in VALUE_TYPES.values()]
names = st.text("abcxyz_/:.", min_size=1, max_size=6)


@st.composite
def arrays(draw):
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(st.lists(st.integers(0, 3), max_size=3))
    count = int(np.prod(shape)) if shape else 1
    if dtype.kind == "f":
        values = draw(st.lists(st.floats(-1e4, 1e4, width=16 if dtype.itemsize == 2 else 32),
                               min_size=count, max_size=count))
    elif dtype.kind == "b":
        values = draw(st.lists(st.booleans(), min_size=count, max_size=count))
    else:
        info = np.iinfo(dtype)
        values = draw(st.lists(st.integers(int(info.min), int(info.max)), min_size=count,
                               max_size=count))
    return np.array(values, dtype).reshape(shape)


@st.composite
def tensors(draw, name="t"):
    """A TensorProto as numpy_helper writes it (raw bytes) or in the typed repeated field."""
    array = draw(arrays())
    if draw(st.booleans()):
        return numpy_helper.from_array(array, name)
    kind = helper.np_dtype_to_tensor_dtype(array.dtype)
    return helper.make_tensor(name, kind, array.shape, array.ravel().tolist())


attribute_values = st.one_of(
    st.floats(-1e6, 1e6, width=32), st.integers(-2 ** 63, 2 ** 63 - 1),
    st.text("abc xyz", min_size=1, max_size=5),
    st.lists(st.floats(-1e6, 1e6, width=32), min_size=1, max_size=4),
    st.lists(st.integers(-2 ** 63, 2 ** 63 - 1), min_size=1, max_size=4),
    st.lists(st.text("abc", min_size=1, max_size=3), min_size=1, max_size=3),
    tensors())


@st.composite
def graphs(draw):
    defined = ["x"]
    inits = []
    for i in range(draw(st.integers(0, 3))):
        inits.append(draw(tensors(f"w{i}")))
        defined.append(f"w{i}")
    nodes = []
    for i in range(draw(st.integers(1, 5))):
        if draw(st.booleans()) and i > 0:
            nodes.append(helper.make_node("Constant", [], [f"k{i}"], name=f"c{i}",
                                          value=draw(tensors())))
        else:
            keys = draw(st.lists(st.text("abcdef", min_size=1, max_size=4), max_size=4,
                                 unique=True))
            attrs = {key: draw(attribute_values) for key in keys}
            inputs = draw(st.lists(st.sampled_from(defined + [""]), max_size=3))
            nodes.append(helper.make_node(draw(st.sampled_from(["Relu", "Custom", "Conv"])),
                                          inputs, [f"y{i}"], name=draw(names),
                                          domain=draw(st.sampled_from(["", "my.domain"])),
                                          **attrs))
        defined.append(nodes[-1].output[0])
    dims = st.lists(st.one_of(st.integers(0, 2 ** 40), st.just("N"), st.none()), max_size=4)

    def value_info(name):
        elem = draw(st.sampled_from(sorted(VALUE_TYPES)))
        shape = draw(st.one_of(st.none(), dims))
        return helper.make_tensor_value_info(name, elem, shape)

    graph = helper.make_graph(nodes, "g", [value_info("x")], [value_info(defined[-1])],
                              initializer=inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid(
        "", draw(st.integers(1, 23)))])


@settings(max_examples=150, deadline=None)
@given(graphs())
def test_random_graphs_read_as_onnx_reads_them(model):
    assert_reads_as_onnx_does(model)


# --- damaged files -----------------------------------------------------------------
SEED = tiny_models.random_classifier(["a", "b"], size=(8, 8)).SerializeToString()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(SEED) - 1), st.integers(0, 255)), min_size=1,
                max_size=8), st.integers(0, len(SEED)))
def test_damaged_model_bytes_are_a_model_error_never_a_crash(edits, length):
    """Bytes flipped and the file cut short anywhere: the reader either reads a graph
    or says the file is damaged; it never raises anything else, nor trusts a length
    in the file to size an allocation (a flipped length byte claims gigabytes)."""
    data = bytearray(SEED[:length])
    for at, byte in edits:
        if at < len(data):
            data[at] = byte
    try:
        read_graph(open_model_file(bytes(data)))
    except ModelError:
        pass


def test_huge_declared_tensor_is_refused_without_allocating_it():
    proto = numpy_helper.from_array(np.zeros(4, np.float32), "w")
    proto.dims[:] = [1 << 40]       # 4 TB declared, 16 bytes held
    node = helper.make_node("Relu", ["w"], ["y"])
    graph = helper.make_graph([node], "g", [], [helper.make_tensor_value_info(
        "y", TensorProto.FLOAT, None)], initializer=[proto])
    with pytest.raises(ModelError, match="'w' .*cannot be read: the file is damaged"):
        read_graph(open_model_file(helper.make_model(graph).SerializeToString()))


def test_external_data_is_read_from_beside_the_model(tmp_path):
    model = small_cnns.mobile_cnn()
    onnx.save(model, str(tmp_path / "m.onnx"), save_as_external_data=True,
              location="m.data", size_threshold=0)
    graph = read_graph(open_model_file(str(tmp_path / "m.onnx")))
    for tensor in small_cnns.mobile_cnn().graph.initializer:    # save moved model's weights out
        np.testing.assert_array_equal(graph.constants[tensor.name],
                                      numpy_helper.to_array(tensor))


def test_external_data_outside_the_model_folder_is_refused(tmp_path):
    model = small_cnns.mobile_cnn()
    onnx.save(model, str(tmp_path / "m.onnx"), save_as_external_data=True,
              location="m.data", size_threshold=0)
    proto = onnx.load(str(tmp_path / "m.onnx"), load_external_data=False)
    for tensor in proto.graph.initializer:
        for entry in tensor.external_data:
            if entry.key == "location":
                entry.value = "../m.data"
    with pytest.raises(ModelError, match="cannot be read from here"):
        read_graph(open_model_file(proto.SerializeToString()))


def test_short_external_data_file_is_a_model_error(tmp_path):
    model = small_cnns.mobile_cnn()
    onnx.save(model, str(tmp_path / "m.onnx"), save_as_external_data=True,
              location="m.data", size_threshold=0)
    with open(tmp_path / "m.data", "r+b") as f:
        f.truncate(100)
    with pytest.raises(ModelError, match="does not hold the .* bytes at offset"):
        read_graph(open_model_file(str(tmp_path / "m.onnx")))
