"""`edgeinfer inspect`: shapes, operators, parameters and MACs computed from
the graph, the metadata, and the backends that can run it."""
import json
import os

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


def test_gemm_with_transposed_a_counts_its_inner_size():
    """A of a transA Gemm is (K, M): its last axis, M, was taken for K (36 MACs
    counted for a 3 x 20 @ 20 x 4 product's 240)."""
    from onnx import TensorProto, helper, numpy_helper

    b = numpy_helper.from_array(np.ones((20, 4), np.float32), "b")
    graph = helper.make_graph(
        [helper.make_node("Gemm", ["a", "b"], ["y"], transA=1)], "gemm",
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, [20, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [b])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    assert summarize(model)["macs"] == 3 * 4 * 20


# -- MACs of convolutions whose shapes only folding reveals ---------------------------------

def legacy_padding_macs(height, width):
    """tools.small_cnns.legacy_same_padding_cnn's MACs: two SAME 3x3 convs
    (3 -> 8 channels at stride 2, then 8 -> 8) and an 8 -> 5 MatMul."""
    out = ((height + 1) // 2) * ((width + 1) // 2)
    return out * 8 * 3 * 9 + out * 8 * 8 * 9 + 5 * 8


def test_convs_padded_by_a_run_time_pad_chain_are_counted():
    """PyTorch's legacy export of EfficientNet-Lite0 printed `MACs 0`: its pads
    are computed from Shape(x) through Gather/Div/Concat/ConstantOfShape/Slice/
    Cast into Pad, which ONNX shape inference cannot follow, so every Conv
    after the first Pad had no shape and counted 0."""
    from tools.small_cnns import legacy_same_padding_cnn

    model = legacy_same_padding_cnn(size=33)
    assert {"Shape", "ConstantOfShape", "Pad"} <= {n.op_type for n in model.graph.node}
    facts = summarize(model)
    assert facts["macs"] == legacy_padding_macs(33, 33) == 228_928
    assert facts["macs_uncounted"] == []


def test_run_time_padded_convs_with_free_height_and_width_are_counted_at_the_stated_size():
    from tools.small_cnns import legacy_same_padding_cnn

    model = legacy_same_padding_cnn(size=33)
    dims = model.graph.input[0].type.tensor_type.shape.dim
    dims[2].dim_param, dims[3].dim_param = "height", "width"
    facts = summarize(model)
    assert facts["macs_at"]["size_from"] == "default"
    assert facts["macs"] == legacy_padding_macs(224, 224)
    assert summarize(model, image_size=(96, 160))["macs"] == legacy_padding_macs(96, 160)


def model_behind_an_unknown_operator(first_conv=True):
    """[a 3x3 Conv,] then a node of a foreign domain whose output shape nothing
    can tell, then a Conv and a MatMul: the native backend refuses it."""
    from onnx import helper

    from tools.small_cnns import Builder, image_input, output

    b = Builder(5)
    x = b.conv("image", 3, 4, 3, 1, [1, 1, 1, 1]) if first_conv else "image"
    channels = 4 if first_conv else 3
    b.nodes.append(helper.make_node("Mystery", [x], ["mystery"], domain="com.example"))
    x = b.node("ReduceMean", [b.conv("mystery", channels, 6, 1)], axes=[2, 3], keepdims=0)
    b.node("MatMul", [x, b.weight(6, 2)])
    graph = helper.make_graph(b.nodes, "net", [image_input((1, 3, 10, 10))],
                              [output(b.nodes[-1].output[0])], b.inits)
    return helper.make_model(graph, ir_version=8, opset_imports=[
        helper.make_opsetid("", 14), helper.make_opsetid("com.example", 1)])


def test_nodes_whose_shapes_stay_unknown_are_named_not_counted_as_zero(tmp_path, cli):
    facts = summarize(model_behind_an_unknown_operator())
    assert facts["macs"] == 10 * 10 * 4 * 3 * 9
    assert len(facts["macs_uncounted"]) == 2    # the Conv and the MatMul after Mystery
    path = tmp_path / "refused.onnx"
    onnx.save(model_behind_an_unknown_operator(), str(path))
    code, out, _ = cli("inspect", path)
    assert code == 0
    assert (f"MACs        at least {10 * 10 * 4 * 3 * 9:,} per input (Conv, Gemm and MatMul, "
            "batch 1; not counted, their shapes known only when the model runs: "
            f"{', '.join(facts['macs_uncounted'])})") in out
    assert "native: no (" in out and "com.example.Mystery" in out
    code, out, _ = cli("inspect", path, "--json")
    assert json.loads(out)["macs_uncounted"] == facts["macs_uncounted"]


def test_many_uncounted_nodes_are_named_by_the_first_three_and_counted():
    from edgeinfer.commands.inspect import _macs

    line = _macs({"macs": 1200, "macs_at": None, "macs_uncounted": ["a", "b", "c", "d", "e"]})
    assert line.startswith("at least 1,200 per input (")
    assert line.endswith(": a, b, c ... (5 in all))")


def test_a_model_with_no_countable_node_says_unknown(tmp_path, cli):
    path = tmp_path / "unknown.onnx"
    onnx.save(model_behind_an_unknown_operator(first_conv=False), str(path))
    code, out, _ = cli("inspect", path)
    assert code == 0
    names = ", ".join(summarize(onnx.load(str(path)))["macs_uncounted"])
    assert "MACs        unknown: the shapes of its Conv, Gemm and MatMul nodes are known only " \
        f"when the model runs ({names})" in out


# the real models the backend benchmarks use, built once into .cache/models
# (benchmarks/backend_models.py: PyTorch's legacy EfficientNet-Lite0 export, its
# int8 twin, Keras conversions); skipped only where torch or TensorFlow is missing
CACHED_MODEL_MACS = {"efficientnet-lite0": 385_187_552, "efficientnet-lite0-int8": 385_187_552,
                     "mini-xception-64": 10_163_392, "small-cnn-96": 4_353_280,
                     "mobilenetv2-keras": 300_774_272}


def cached_model(name):
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                    "benchmarks"))
    from backend_models import Unavailable, model_path

    try:
        return model_path(name)
    except Unavailable as error:
        pytest.skip(str(error))


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CACHED_MODEL_MACS))
def test_macs_of_the_benchmark_models(name, cli):
    code, out, _ = cli("inspect", cached_model(name))
    assert code == 0
    assert f"MACs        {CACHED_MODEL_MACS[name]:,} per input" in out


@pytest.mark.slow
def test_legacy_efficientnet_macs_match_the_native_plans_shapes():
    """The count inspect prints for PyTorch's legacy EfficientNet-Lite0 export
    (printed as 0 before) is the one the shapes of the native backend's own
    plan give."""
    from edgeinfer.commands.model_summary import load_model_file
    from edgeinfer.native import NativeBackend

    path = cached_model("efficientnet-lite0")
    model = load_model_file(path)
    info = NativeBackend(path)._prepare({"input": np.zeros((1, 3, 224, 224), np.float32)}).info
    planned = 0
    for node in model.graph.node:
        if node.op_type == "Conv":
            out, weight = info[node.output[0]][0], info[node.input[1]][0]
            planned += int(np.prod(out)) * int(np.prod(weight[1:]))
        elif node.op_type in ("Gemm", "MatMul"):
            planned += int(np.prod(info[node.output[0]][0])) * info[node.input[0]][0][-1]
    assert sum(n.op_type == "Conv" for n in model.graph.node) == 49
    assert summarize(model, path=path)["macs"] == planned == 385_187_552


def test_counting_folded_shapes_imports_no_framework(tmp_path):
    """The native planner's folding inspect now uses pulls in neither
    TensorFlow nor PyTorch (onnx is inspect's own need)."""
    from test_runtime_imports import heavy_modules_after
    from tools.small_cnns import legacy_same_padding_cnn

    path = tmp_path / "legacy.onnx"
    onnx.save(legacy_same_padding_cnn(), str(path))
    heavy = heavy_modules_after(f"from edgeinfer.cli import main\n"
                                f"assert main(['inspect', {str(path)!r}]) == 0")
    assert "onnx" in heavy     # the probe sees what inspect imports
    assert not {"tensorflow", "torch", "keras", "tf2onnx"} & set(heavy), heavy


def test_a_matmul_inside_an_if_branch_is_named_uncounted_not_left_out(tmp_path):
    """The count left out a MatMul inside an If branch and still called itself
    complete; the If is now named among the uncounted nodes."""
    from onnx import TensorProto, helper

    from edgeinfer.commands.model_summary import summarize

    weight = helper.make_tensor("w", TensorProto.FLOAT, [4, 4], [0.5] * 16)
    branch = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y_then"])], "then", [],
        [helper.make_tensor_value_info("y_then", TensorProto.FLOAT, [1, 4])])
    plain = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y_else"])], "else", [],
        [helper.make_tensor_value_info("y_else", TensorProto.FLOAT, [1, 4])])
    graph = helper.make_graph(
        [helper.make_node("If", ["flag"], ["y"], name="choose", then_branch=branch,
                          else_branch=plain)], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4]),
         helper.make_tensor_value_info("flag", TensorProto.BOOL, [])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])], [weight])
    facts = summarize(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]))
    assert facts["macs_uncounted"] == ["choose"]
