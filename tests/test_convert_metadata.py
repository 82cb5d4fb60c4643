"""The self-description a converted file carries: written, read back equal,
refused when too new; labels and preprocessing specs as users write them."""
import re

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from edgeinfer.convert import from_onnx
from edgeinfer.convert.labels import resolve_labels
from edgeinfer.labels import parse_label_lines
from edgeinfer.convert.preprocessing import apply_spec, preset
from edgeinfer.errors import UserError
from edgeinfer.metadata import (FORMAT_VERSION, METADATA_KEY, ImageInput, MetadataError,
                                ModelInfo, SensorInput, read_info, write_info)


def tiny_image_model(channels=3, size=8, classes=3, softmax=False, layout="nchw"):
    """Conv -> global pool -> flatten (-> softmax), built with onnx.helper."""
    rng = np.random.default_rng(0)
    shape = ["batch", channels, size, size] if layout == "nchw" else ["batch", size, size, channels]
    weight = helper.make_tensor("w", TensorProto.FLOAT, [classes, channels, 3, 3],
                                rng.standard_normal(classes * channels * 9).astype(np.float32))
    nodes = []
    source = "input"
    if layout == "nhwc":
        nodes.append(helper.make_node("Transpose", ["input"], ["nchw"], perm=[0, 3, 1, 2]))
        source = "nchw"
    nodes += [helper.make_node("Conv", [source, "w"], ["conv"], pads=[1, 1, 1, 1]),
              helper.make_node("GlobalAveragePool", ["conv"], ["pool"]),
              helper.make_node("Flatten", ["pool"], ["flat" if softmax else "output"])]
    if softmax:
        nodes.append(helper.make_node("Softmax", ["flat"], ["output"], axis=1))
    graph = helper.make_graph(
        nodes, "tiny", [helper.make_tensor_value_info("input", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", classes])],
        initializer=[weight])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_model_info_round_trip_through_a_model_file(tmp_path):
    info = ModelInfo(labels=["cat", "coffee"], input_name="input",
                     image=ImageInput(size=(96, 128), layout="nhwc", color="bgr", crop=0.875,
                                      mean=(1.0, 2.0, 3.0), std=(4.0, 5.0, 6.0)),
                     output="probabilities", source={"framework": "keras", "version": "3"},
                     verification={"passed": True, "max_abs_diff": 1e-7},
                     quantization={"scheme": "int8"})
    path = tmp_path / "m.onnx"
    onnx.save(write_info(tiny_image_model(), info), str(path))
    assert read_info(onnx.load(str(path))) == info


def test_sensor_info_round_trip():
    info = ModelInfo(task="sensor-classification", sensor=SensorInput(
        window=100, hop=50, channels=("ax", "ay", "az"), mean=(0.0,) * 3, std=(1.0,) * 3))
    model = write_info(tiny_image_model(), info)
    assert read_info(model) == info


def test_newer_format_is_refused_with_advice():
    model = write_info(tiny_image_model(), ModelInfo(format_version=FORMAT_VERSION + 1))
    with pytest.raises(MetadataError, match="upgrade"):
        read_info(model, "future.onnx")


def test_fields_from_a_newer_minor_writer_are_ignored():
    model = tiny_image_model()
    entry = model.metadata_props.add()
    entry.key = METADATA_KEY
    entry.value = '{"format_version": 1, "labels": ["a"], "something_new": 3}'
    assert read_info(model).labels == ["a"]


def test_teachable_machine_labels_lose_their_indices():
    assert parse_label_lines(["0 Class 1", "1 Class 2", ""], "x") == ["Class 1", "Class 2"]
    # numbers that are not 0, 1, 2 ... are part of the names
    assert parse_label_lines(["7 dwarfs", "3 musketeers"], "x") == ["7 dwarfs", "3 musketeers"]


def test_labels_from_a_file_or_a_list(tmp_path):
    path = tmp_path / "labels.txt"
    path.write_text("tabby\nespresso\n")
    assert resolve_labels(str(path)) == ["tabby", "espresso"]
    assert resolve_labels("tabby, espresso") == ["tabby", "espresso"]
    with pytest.raises(UserError, match="does not exist, and it is no comma list"):
        resolve_labels("missing.txt")


def test_preprocessing_presets_and_overrides():
    spec = apply_spec(ImageInput(), "imagenet size=256,192 crop=none color=bgr")
    assert spec.size == (256, 192) and spec.crop is None and spec.color == "bgr"
    assert spec.mean == pytest.approx((123.675, 116.28, 103.53))
    assert apply_spec(ImageInput(), ["teachable-machine"]) == preset("teachable-machine")
    assert apply_spec(ImageInput(), "mean=127 std=128").std == (128.0,) * 3
    with pytest.raises(UserError, match="unknown preset"):
        apply_spec(ImageInput(), "imagenett")
    with pytest.raises(UserError, match="layout"):
        apply_spec(ImageInput(), "layout=chw")


def test_annotating_an_onnx_file(tmp_path, cli):
    source = tmp_path / "plain.onnx"
    onnx.save(tiny_image_model(softmax=True), str(source))
    out = tmp_path / "annotated.onnx"
    code, _, err = cli("convert", source, "-o", out, "--labels", "a,b,c", "--preprocess", "tf")
    assert code == 0, err
    info = read_info(onnx.load(str(out)))
    assert info.labels == ["a", "b", "c"] and info.output == "probabilities"
    assert info.image.size == (8, 8) and info.image.mean == (127.5,) * 3
    # annotating again keeps what is not overridden
    again = tmp_path / "again.onnx"
    info2 = from_onnx(str(out), str(again), labels=["x", "y", "z"])
    assert info2.labels == ["x", "y", "z"] and info2.image == info.image


def test_layout_and_grey_input_are_read_from_the_graph(tmp_path):
    source = tmp_path / "grey.onnx"
    onnx.save(tiny_image_model(channels=1, layout="nhwc"), str(source))
    info = from_onnx(str(source), str(tmp_path / "out.onnx"), preprocess="unit")
    assert info.image.layout == "nhwc" and info.image.color == "gray"
    assert info.output == "logits"


def test_declared_size_must_match_a_fixed_input(tmp_path):
    source = tmp_path / "fixed.onnx"
    model = tiny_image_model(size=8)
    model.graph.input[0].type.tensor_type.shape.dim[0].dim_value = 1
    onnx.save(model, str(source))
    with pytest.raises(UserError, match="takes 8x8 images .* size=16,16"):
        from_onnx(str(source), str(tmp_path / "out.onnx"), preprocess="size=16,16")
    assert not (tmp_path / "out.onnx").exists()


def test_corrupt_onnx_file_is_one_line(tmp_path, cli):
    from conftest import assert_one_line_error

    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07garbage" * 10)
    code, _, err = cli("convert", bad, "-o", tmp_path / "out.onnx")
    assert_one_line_error(code, err, "bad.onnx")
    assert not (tmp_path / "out.onnx").exists()


def test_unknown_source_kind_and_missing_file(tmp_path, cli):
    from conftest import assert_one_line_error

    notes = tmp_path / "model.txt"
    notes.write_text("hello")
    code, _, err = cli("convert", notes, "-o", tmp_path / "out.onnx")
    assert_one_line_error(code, err, "model.txt", ".keras")
    code, _, err = cli("convert", tmp_path / "absent.h5", "-o", tmp_path / "out.onnx")
    assert_one_line_error(code, err, "absent.h5", "does not exist")


def test_written_model_has_the_usual_file_mode(tmp_path):
    import os
    import stat

    source = tmp_path / "plain.onnx"
    onnx.save(tiny_image_model(), str(source))
    out = tmp_path / "out.onnx"
    from_onnx(str(source), str(out))
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o666 & ~mask


def test_onnx_without_preprocess_prints_the_default_it_records(tmp_path, cli):
    """`convert X.onnx` without --preprocess used to record ImageNet statistics,
    crop 0.875 and 224x224 for free dimensions without a word."""
    fixed, free = tiny_image_model(), tiny_image_model()
    dims = fixed.graph.input[0].type.tensor_type.shape.dim
    dims[2].dim_value, dims[3].dim_value = 12, 20
    dims = free.graph.input[0].type.tensor_type.shape.dim
    dims[2].dim_param, dims[3].dim_param = "height", "width"
    for name, model, size, words in [("fixed", fixed, (12, 20), "fixed input size"),
                                     ("free", free, (224, 224), "input size is free")]:
        source, out = tmp_path / f"{name}.onnx", tmp_path / f"{name}-out.onnx"
        onnx.save(model, str(source))
        code, _, err = cli("convert", source, "-o", out)
        assert code == 0, err
        said = [line for line in err.splitlines() if "preprocessing:" in line]
        assert len(said) == 1 and "'imagenet'" in said[0] and words in said[0], err
        info = read_info(onnx.load(str(out)))
        assert info.image.size == size and info.image.crop == 0.875
        # what is printed is exactly what is recorded, in words --preprocess takes back
        spec = re.search(r"(size=.*?) \(", said[0]).group(1)
        assert f"size={size[0]},{size[1]}" in spec and "crop=0.875" in spec
        assert apply_spec(ImageInput(), spec) == info.image


# metadata the reader once failed on with TypeError, AttributeError or
# UnicodeDecodeError instead of MetadataError (found by tests/fuzz/fuzz_metadata.py
# and fuzz_native_loader.py)
MALFORMED_METADATA = {
    "json_number_not_object": b"2\n",
    "image_section_not_object": b'{"image": 5}',
    "sensor_channels_a_number": b'{"task": "sensor-classification", "sensor": {"channels": 3}}',
    "metadata_not_utf8": b'{"labels": ["\x89\xff"]}',
    "json_nested_too_deep": b"[" * 100000 + b"]" * 100000,
    # a name no kernel knows reached numpy as np.dtype("float33"): TypeError
    "image_dtype_unknown": b'{"image": {"dtype": "float33"}}',
    "image_layout_unknown": b'{"image": {"layout": "chw"}}',
    "sensor_layout_unknown": b'{"task": "sensor-classification", "sensor": {"window": 4, '
                             b'"hop": 1, "channels": ["x"], "layout": "wc"}}',
}


@pytest.mark.parametrize("name", sorted(MALFORMED_METADATA))
def test_malformed_metadata_is_a_metadata_error(name):
    with pytest.raises(MetadataError, match="fuzzed.onnx"):
        ModelInfo.from_json(MALFORMED_METADATA[name], "fuzzed.onnx")

