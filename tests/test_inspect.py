"""`edgeinfer inspect`: shapes, operators, parameters and MACs computed from
the graph, the metadata, and the backends that can run it."""
import json

import numpy as np
import onnx

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
    assert "mean [127.0, 127.0, 127.0]" in out
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
