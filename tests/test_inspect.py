"""`edgeinfer inspect`: shapes, operators, parameters and MACs computed from
the graph, the metadata, and the backends that can run it."""
import json

import numpy as np
import onnx
import pytest

from edgeinfer.metadata import ImageInput, ModelInfo, write_info
from edgeinfer.commands.model_summary import summarize
from test_convert_metadata import tiny_image_model


def test_counts_follow_the_graph():
    channels, size, classes = 3, 8, 5
    model = tiny_image_model(channels=channels, size=size, classes=classes)
    facts = summarize(model)
    weights = sum(int(np.prod(t.dims)) for t in model.graph.initializer)
    assert facts["parameters"] == weights == classes * channels * 9
    # a padded 3x3 conv: every output pixel of every class reads channels * 9 inputs
    assert facts["macs"] == size * size * classes * channels * 9
    assert facts["operators"] == {"Conv": 1, "GlobalAveragePool": 1, "Flatten": 1}
    assert facts["inputs"] == [("input", ["batch", channels, size, size])]
    assert facts["opset"] == 17


def test_cli_prints_metadata_and_backends(tmp_path, cli):
    path = tmp_path / "m.onnx"
    info = ModelInfo(labels=["tabby", "espresso", "other"], input_name="input",
                     image=ImageInput(size=(8, 8), mean=(127.0,) * 3, std=(128.0,) * 3))
    onnx.save(write_info(tiny_image_model(), info), str(path))
    code, out, _ = cli("inspect", path)
    assert code == 0
    assert "tabby, espresso, other" in out
    assert "onnxruntime: yes" in out
    assert "mean [127, 127, 127]" in out
    code, out, _ = cli("inspect", path, "--json")
    facts = json.loads(out)
    assert facts["metadata"]["labels"] == ["tabby", "espresso", "other"]
    assert facts["parameters"] == 81


def test_model_without_metadata_says_how_to_add_it(tmp_path, cli):
    path = tmp_path / "plain.onnx"
    onnx.save(tiny_image_model(), str(path))
    code, out, _ = cli("inspect", path)
    assert code == 0 and "edgeinfer convert" in out


def test_unreadable_file_is_one_line(tmp_path, cli):
    from conftest import assert_one_line_error

    path = tmp_path / "broken.onnx"
    path.write_bytes(b"\xff" * 64)
    code, _, err = cli("inspect", path)
    assert_one_line_error(code, err, "broken.onnx")


def free_size_model(layout="nchw"):
    """tiny_image_model with free height and width."""
    model = tiny_image_model(channels=3, classes=5, layout=layout)
    dims = model.graph.input[0].type.tensor_type.shape.dim
    for axis in ((2, 3) if layout == "nchw" else (1, 2)):
        dims[axis].dim_param = "height" if axis == (2 if layout == "nchw" else 1) else "width"
    return model


@pytest.mark.parametrize("layout", ["nchw", "nhwc"])
def test_macs_of_free_height_and_width_are_counted_at_a_stated_size(layout):
    """They were counted at 1x1 without a word: 135 MACs for a model that does 6.8 million."""
    facts = summarize(free_size_model(layout))
    assert facts["macs_at"] == {"height": 224, "width": 224, "size_from": "default"}
    assert facts["macs"] == 224 * 224 * 5 * 3 * 9
    facts = summarize(free_size_model(layout), image_size=(96, 128))
    assert facts["macs_at"] == {"height": 96, "width": 128, "size_from": "metadata"}
    assert facts["macs"] == 96 * 128 * 5 * 3 * 9


def test_fixed_size_model_says_no_size(tmp_path, cli):
    assert summarize(tiny_image_model())["macs_at"] is None
    path = tmp_path / "fixed.onnx"
    onnx.save(tiny_image_model(), str(path))
    code, out, _ = cli("inspect", path)
    assert code == 0
    assert f"MACs        {8 * 8 * 3 * 3 * 9:,} per input (Conv" in out


def test_cli_prints_the_size_free_macs_are_counted_at(tmp_path, cli):
    path = tmp_path / "free.onnx"
    onnx.save(free_size_model(), str(path))
    code, out, _ = cli("inspect", path)
    assert code == 0
    assert f"MACs        {224 * 224 * 5 * 3 * 9:,} per input at 224x224 (a common size" in out
    info = ModelInfo(labels=list("abcde"), input_name="input",
                     image=ImageInput(size=(96, 128), mean=(127.0,) * 3, std=(128.0,) * 3))
    annotated = tmp_path / "annotated.onnx"
    onnx.save(write_info(free_size_model(), info), str(annotated))
    code, out, _ = cli("inspect", annotated)
    assert f"{96 * 128 * 5 * 3 * 9:,} per input at 96x128 (the size in its metadata)" in out
    code, out, _ = cli("inspect", annotated, "--json")
    assert json.loads(out)["macs_at"] == {"height": 96, "width": 128, "size_from": "metadata"}


def test_inspect_prints_no_python_reprs(tmp_path, cli):
    """It printed `crop None`, `tf2onnx 1.17.0 None` and `SensorInput(window=50, ...)`."""
    from tools import tiny_models

    sensor = tiny_models.sensor_channel_means(("ax", "ay", "az"), window=50, hop=25,
                                              sample_rate=50.0)
    sensor.producer_name, sensor.producer_version = "tf2onnx", "1.17.0 None"
    path = tiny_models.save(sensor, tmp_path / "sensor.onnx")
    code, out, _ = cli("inspect", "-m", path)
    assert code == 0
    assert "None" not in out and "SensorInput" not in out and "(" not in out.split("sensor ")[1]
    assert "producer    tf2onnx 1.17.0, opset" in out
    assert "sensor      50-sample windows every 25 samples at 50 Hz of ax, ay, az" in out
    image = tmp_path / "image.onnx"
    onnx.save(write_info(tiny_image_model(), ModelInfo(
        labels=["a", "b", "c"], input_name="input", image=ImageInput(size=(8, 8)))), str(image))
    code, out, _ = cli("inspect", image)
    assert "no crop" in out and "None" not in out


def test_json_goes_to_a_path_or_standard_output_and_the_old_flag_still_works(tmp_path, cli):
    path = tmp_path / "m.onnx"
    onnx.save(tiny_image_model(), str(path))
    code, out, _ = cli("inspect", "-m", path, "--json", tmp_path / "facts.json")
    assert code == 0 and out == ""
    written = json.loads((tmp_path / "facts.json").read_text())
    assert written["parameters"] == 81
    for argv in ((path, "--json"), ("--json", path), ("--json", "-", "--model", path)):
        code, out, _ = cli("inspect", *argv)
        assert code == 0 and json.loads(out) == written


def test_json_into_an_unwritable_place_is_one_line_not_an_unexpected_error(tmp_path, cli):
    path = tmp_path / "m.onnx"
    onnx.save(tiny_image_model(), str(path))
    (tmp_path / "a-file").write_text("")   # a folder that cannot be made: a file is there
    code, _, err = cli("inspect", "-m", path, "--json", tmp_path / "a-file" / "f.json")
    assert code == 2 and "Traceback" not in err and "unexpected" not in err
    assert err.strip().startswith("edgeinfer inspect: cannot write --json"), err
