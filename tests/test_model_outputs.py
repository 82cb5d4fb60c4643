"""Which output holds the class scores: a detector's box map is refused with
one line listing the outputs; --output NAME / output_name= picks the scores of a
multi-output model, and `convert --output-name` records it."""
import json

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import edgeinfer
from edgeinfer.errors import ModelError
from edgeinfer.media import SAMPLE_IMAGE
from edgeinfer.metadata import read_info
from conftest import assert_one_line_error

SIZE = 16


def detector(tmp_path, outputs=("boxes", "scores"), name="detector.onnx"):
    """A seeded tiny two-headed model as detectors are: box regression [1, 64, 4]
    first, class scores [1, 3] second (or only the box map [1, 4, 4, 4])."""
    rng = np.random.default_rng(0)
    weights = {"conv_w": rng.normal(0, 0.5, (4, 3, 3, 3)), "conv_b": np.zeros(4),
               "box_w": rng.normal(0, 1, (4, 256)), "cls_w": rng.normal(0, 1, (4, 3)),
               "cls_b": np.zeros(3), "box_shape": np.array([1, 64, 4])}
    nodes = [helper.make_node("Conv", ["image", "conv_w", "conv_b"], ["map"], kernel_shape=[3, 3],
                              strides=[4, 4], pads=[1, 1, 1, 1]),
             helper.make_node("GlobalAveragePool", ["map"], ["pool"]),
             helper.make_node("Flatten", ["pool"], ["features"]),
             helper.make_node("MatMul", ["features", "box_w"], ["box_flat"]),
             helper.make_node("Reshape", ["box_flat", "box_shape"], ["boxes"]),
             helper.make_node("Gemm", ["features", "cls_w", "cls_b"], ["scores"])]
    shapes = {"boxes": [1, 64, 4], "scores": [1, 3], "map": [1, 4, 4, 4]}
    graph = helper.make_graph(
        nodes, "detector",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, SIZE, SIZE])],
        [helper.make_tensor_value_info(o, TensorProto.FLOAT, shapes[o]) for o in outputs],
        [numpy_helper.from_array(np.asarray(v, np.int64 if k == "box_shape" else np.float32), k)
         for k, v in weights.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path = tmp_path / name
    onnx.save(model, str(path))
    return path


@pytest.mark.parametrize("backend", ["native", "onnxruntime"])
@pytest.mark.parametrize("outputs, refused", [(("boxes", "scores"), "'boxes'"),
                                              (("map",), "'map'")])
def test_detector_output_is_refused_listing_the_outputs(tmp_path, backend, outputs, refused):
    path = detector(tmp_path, outputs)
    with pytest.raises(ModelError) as error:
        edgeinfer.load(path, backend=backend)
    text = str(error.value)
    assert "\n" not in text and refused in text and "not class scores" in text
    assert "--output" in text
    for name in outputs:
        assert name in text


@pytest.mark.parametrize("backend", ["native", "onnxruntime"])
def test_output_name_picks_the_scores_output(tmp_path, backend):
    path = detector(tmp_path)
    model = edgeinfer.load(path, backend=backend, output_name="scores", labels=["a", "b", "c"])
    assert model.classes == 3
    predictions = model.predict(np.full((SIZE, SIZE, 3), 100, np.uint8), top_k=3)
    assert sorted(p.label for p in predictions) == ["a", "b", "c"]
    assert abs(sum(p.score for p in predictions) - 1.0) < 1e-5
    with pytest.raises(ModelError, match="no output 'logits'.*boxes \\[1, 64, 4\\]"):
        edgeinfer.load(path, backend=backend, output_name="logits")


def test_run_output_flag_and_convert_output_name(tmp_path, cli):
    path = detector(tmp_path)
    code, _, err = cli("run", "--model", path, "--image", SAMPLE_IMAGE)
    assert_one_line_error(code, err, "'boxes'", "not class scores", "scores [1, 3]")
    out = tmp_path / "out.jsonl"
    code, _, err = cli("run", "--model", path, "--image", SAMPLE_IMAGE, "--output", "scores",
                       "--json", out)
    assert code == 0, err
    assert json.loads(out.read_text())["label"].startswith("class ")
    converted = tmp_path / "classifier.onnx"
    code, _, err = cli("convert", path, "-o", converted, "--output-name", "scores",
                       "--labels", "a,b,c", "--no-verify", "--preprocess", "unit")
    assert code == 0, err
    assert read_info(onnx.load(str(converted))).output_name == "scores"
    code, _, err = cli("run", "--model", converted, "--image", SAMPLE_IMAGE, "--json", out)
    assert code == 0, err
    assert json.loads(out.read_text())["label"] in ("a", "b", "c")
