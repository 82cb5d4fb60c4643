"""The native backend behind edgeinfer.load and `edgeinfer run`: chosen by
name, chosen by "auto" when onnxruntime is missing, same labels as
onnxruntime on the real photos."""
import json

import numpy as np
import pytest

import edgeinfer
from edgeinfer import backends
from edgeinfer.cli import main
from edgeinfer.errors import ModelError
from tools import sample_clip


def test_load_with_the_native_backend(media):
    native = edgeinfer.load(media["model"], backend="native")
    assert native.backend.name == "native"
    for name in ("chelsea", "coffee"):
        photo = sample_clip.photo(name)
        got = native.predict(photo, top_k=2)
        assert got[0].label == media["truth"][name]
        pytest.importorskip("onnxruntime")
        want = edgeinfer.load(media["model"], backend="onnxruntime").predict(photo, top_k=2)
        assert [p.index for p in got] == [p.index for p in want]
        np.testing.assert_allclose([p.score for p in got], [p.score for p in want], atol=1e-5)


def test_auto_falls_back_to_native_without_onnxruntime(monkeypatch, media):
    from edgeinfer.backends import onnxruntime as ort_backend

    monkeypatch.setattr(ort_backend, "available",
                        lambda: (False, "onnxruntime is not installed"))
    assert backends.resolve("auto")[0] == "native"
    assert edgeinfer.load(media["model"]).backend.name == "native"


def test_native_refusal_is_a_model_error(tmp_path):
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph([helper.make_node("Erf", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    path = tmp_path / "erf.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    with pytest.raises(ModelError, match=r"erf.onnx uses operators .*Erf.*--backend onnxruntime"):
        edgeinfer.load(str(path), backend="native")


def test_run_command_with_backend_native(capsys, media, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    import cv2

    for name in ("chelsea", "coffee"):
        cv2.imwrite(str(folder / f"{name}.jpg"), sample_clip.photo(name))
    out_json = tmp_path / "out.jsonl"
    code = main(["run", "--model", str(media["model"]), "--image", str(folder), "--backend",
                 "native", "--json", str(out_json)])
    capsys.readouterr()
    assert code == 0
    with open(out_json) as f:
        labels = [json.loads(line)["label"] for line in f]
    assert labels == [media["truth"]["chelsea"], media["truth"]["coffee"]]


def test_can_run_says_yes_or_why_not(media):
    from edgeinfer.backends import native

    with open(media["model"], "rb") as f:
        assert native.can_run(f.read()) == "yes"
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph([helper.make_node("Erf", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    verdict = native.can_run(helper.make_model(graph).SerializeToString())
    assert verdict.startswith("no (") and "Erf" in verdict


def _relu_graph(node_input, graph_output, node_name):
    from onnx import TensorProto, helper
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2])
    y = helper.make_tensor_value_info(graph_output, TensorProto.FLOAT, [1, 2])
    graph = helper.make_graph([helper.make_node("Relu", [node_input], ["y"], name=node_name)],
                              "g", [x], [y])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


@pytest.mark.parametrize("node_input,graph_output,node_name,words", [
    ("x", "nope", "relu", "graph output 'nope' is produced by no node"),
    ("missing", "y", "relu", "node 'relu' reads 'missing', which no earlier node"),
    # an unnamed node is named by its operator (the message itself once raised AttributeError)
    ("missing", "y", "", "node 'Relu' reads 'missing'"),
])
def test_graph_output_defined_nowhere_is_refused_at_load(tmp_path, node_input, graph_output,
                                                         node_name, words):
    """A graph output no node produced loaded, then raised KeyError mid-run (found by fuzzing
    the native loader); a node input defined nowhere likewise."""
    import onnx
    from edgeinfer.native import NativeBackend

    path = tmp_path / "damaged.onnx"
    onnx.save(_relu_graph(node_input, graph_output, node_name), str(path))
    with pytest.raises(ModelError, match=words):
        NativeBackend(str(path))


def test_gemm_bias_that_does_not_broadcast_is_refused_at_load(tmp_path):
    """A Gemm whose C cannot broadcast to its output raised numpy's ValueError from the
    native loader (found by fuzzing it); a node whose arithmetic fails on a broken
    graph is now named in one ModelError."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from edgeinfer.native import NativeBackend

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8])
    weights = [numpy_helper.from_array(np.ones((4, 8), np.float32), "w"),
               numpy_helper.from_array(np.ones(2, np.float32), "c")]
    graph = helper.make_graph([helper.make_node("Gemm", ["x", "w", "c"], ["y"], name="fc")],
                              "g", [x], [y], weights)
    path = tmp_path / "gemm.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    with pytest.raises(ModelError, match=r"node 'fc' \(Gemm\) does not fit its inputs"):
        NativeBackend(str(path))
