"""Model files and their metadata as people really have them: metadata from a
newer or a broken writer, native load errors, empty files, and the framework
files edgeinfer converts from given where an ONNX file belongs."""
import json
import logging
import os
import zipfile

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import edgeinfer
from edgeinfer.errors import ModelError
from edgeinfer.metadata import METADATA_KEY
from edgeinfer.native import NativeBackend
from tools import tiny_models
from conftest import assert_one_line_error

LABELS = ["cat", "dog"]
TEACHABLE_MACHINE = os.path.join(os.path.dirname(__file__), "data", "teachable_machine")


def with_metadata(tmp_path, edit, name="m.onnx"):
    """A tiny classifier whose metadata JSON was changed by edit(dict)."""
    model = tiny_models.random_classifier(LABELS, size=(16, 16))
    for prop in model.metadata_props:
        if prop.key == METADATA_KEY:
            data = json.loads(prop.value)
            edit(data)
            prop.value = json.dumps(data)
    return tiny_models.save(model, tmp_path / name)


def one_line_model_error(path, *words, backend="onnxruntime"):
    with pytest.raises(ModelError) as error:
        edgeinfer.load(path, backend=backend)
    text = str(error.value)
    assert "\n" not in text and all(w in text for w in words), text
    return text


@pytest.mark.parametrize("section", ["image", "sensor", None])
def test_unknown_metadata_key_is_ignored_with_a_warning(tmp_path, caplog, cli, section):
    def edit(data):
        if section == "sensor":   # a sensor section beside image: read, then unused
            data["sensor"] = {"window": 8, "hop": 8, "channels": ["a"]}
        (data[section] if section else data)["added_by_a_newer_converter"] = {"x": 1}
    path = with_metadata(tmp_path, edit)
    with caplog.at_level(logging.WARNING, logger="edgeinfer"):
        model = edgeinfer.load(path, backend="onnxruntime")
    assert model.labels == LABELS
    key = f"{section}.added_by_a_newer_converter" if section else "added_by_a_newer_converter"
    assert any(key in record.getMessage() for record in caplog.records)
    code, out, _ = cli("inspect", path)
    assert code == 0 and "cat, dog" in out


MALFORMED = {
    "image as a string": (lambda d: d.update(image="224x224"), "'image'"),
    "image as a list": (lambda d: d.update(image=[224, 224]), "'image'"),
    "size as a string": (lambda d: d["image"].update(size="16"), "'image.size'"),
    "mean of strings": (lambda d: d["image"].update(mean=["a", "b", "c"]), "'image.mean'"),
    "source null": (lambda d: d.update(source=None), "'source'"),
    "verification as a list": (lambda d: d.update(verification=[1]), "'verification'"),
    "labels as a string": (lambda d: d.update(labels="cat,dog"), "'labels'"),
    "sensor window as a string": (lambda d: d.update(sensor={"window": "8"}), "'sensor.window'"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_metadata_value_is_a_model_error_naming_the_key(tmp_path, cli, case):
    edit, key = MALFORMED[case]
    path = with_metadata(tmp_path, edit)
    one_line_model_error(path, key)
    code, _, err = cli("inspect", path)
    assert_one_line_error(code, err, key)
    code, _, err = cli("run", "--model", path, "--image", path)
    assert_one_line_error(code, err, key)


def test_metadata_that_is_not_an_object(tmp_path):
    model = tiny_models.random_classifier(LABELS, size=(16, 16))
    model.metadata_props[0].value = "[1, 2]"
    one_line_model_error(tiny_models.save(model, tmp_path / "m.onnx"), "not an object")


def test_format_version_as_a_string_says_it_is_not_a_number(tmp_path):
    path = with_metadata(tmp_path, lambda d: d.update(format_version="1"))
    text = one_line_model_error(path, "'format_version'", "whole number", '"1"')
    assert "reads up to format" not in text


def external_data_model(tmp_path):
    model = tiny_models.random_classifier(LABELS, size=(16, 16))
    onnx.save(model, str(tmp_path / "m.onnx"), save_as_external_data=True,
              all_tensors_to_one_file=True, location="m.weights", size_threshold=0)
    return tmp_path / "m.onnx"


@pytest.mark.parametrize("backend", ["native", "onnxruntime"])
def test_missing_external_data_file_is_a_model_error(tmp_path, backend):
    path = external_data_model(tmp_path)
    assert edgeinfer.load(path, backend=backend).labels == LABELS
    os.remove(tmp_path / "m.weights")
    one_line_model_error(path, "m.onnx", backend=backend)
    with pytest.raises(ModelError, match="m.weights"):
        NativeBackend(str(path))


def test_initializer_declaring_dims_without_data_is_a_model_error(tmp_path):
    model = tiny_models.random_classifier(LABELS, size=(16, 16))
    weights = next(t for t in model.graph.initializer if t.name == "fc_b")
    weights.ClearField("raw_data")
    del weights.float_data[:]
    path = tiny_models.save(model, tmp_path / "hollow.onnx")
    one_line_model_error(path, "'fc_b'", "hollow.onnx", backend="native")
    with pytest.raises(ModelError, match="'fc_b'"):
        NativeBackend(onnx.load(path))


def test_inspect_on_an_empty_file_agrees_with_load(tmp_path, cli):
    path = tmp_path / "empty.onnx"
    path.write_bytes(b"")
    one_line_model_error(path, "empty.onnx", "no ONNX graph")
    code, out, err = cli("inspect", path)
    assert_one_line_error(code, err, "empty.onnx", "no ONNX graph")
    assert "native: yes" not in out
    with pytest.raises(ModelError, match="no ONNX graph"):
        NativeBackend(b"")


def keras_v3_file(path):
    """A .keras archive as Keras 3 writes it: config, metadata and weights in a zip."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("metadata.json", json.dumps({"keras_version": "3.0.0"}))
        archive.writestr("config.json", json.dumps({"class_name": "Sequential"}))
        with open(os.path.join(TEACHABLE_MACHINE, "keras_model.h5"), "rb") as f:
            archive.writestr("model.weights.h5", f.read())


def torchscript_file(path):
    import torch

    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), str(path))


def tflite_file(path):
    """The first bytes of a TFLite flatbuffer: root table offset, then the "TFL3" identifier."""
    path.write_bytes(np.uint32(28).tobytes() + b"TFL3" + bytes(64))


@pytest.mark.parametrize("kind, make, words", [
    ("h5", lambda p: p.write_bytes(open(os.path.join(TEACHABLE_MACHINE, "keras_model.h5"),
                                        "rb").read()), "Keras HDF5"),
    ("keras", keras_v3_file, "Keras 3"),
    ("pt", torchscript_file, "TorchScript"),
    ("tflite", tflite_file, "TensorFlow Lite"),
])
def test_framework_file_given_as_a_model_points_to_convert(tmp_path, cli, kind, make, words):
    path = tmp_path / f"model.{kind}"
    make(path)
    text = one_line_model_error(path, words, "edgeinfer convert")
    assert "Wire format" not in text
    for command in (("inspect", path), ("run", "--model", path, "--image", path)):
        code, _, err = cli(*command)
        assert_one_line_error(code, err, words, "edgeinfer convert")


@pytest.mark.parametrize("backend", ["native", "onnxruntime"])
def test_damage_inside_the_graph_is_a_model_error(backend):
    """The file reader decodes the graph's fields when first read; damage found there
    (an unknown wire type, found by fuzzing the native loader) escaped as a raw
    WireError instead of one line naming the file."""
    import os
    import edgeinfer

    path = os.path.join(os.path.dirname(__file__), "fuzz", "corpus", "native_loader",
                        "graph-with-unknown-wire-type.onnx")
    with pytest.raises(ModelError, match="is not a readable ONNX model"):
        edgeinfer.load(path, backend=backend)
