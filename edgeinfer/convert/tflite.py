"""TFLite flatbuffers to ONNX through tf2onnx, verified against the TFLite
interpreter itself."""
import os
import warnings

import numpy as np

from ..errors import UserError
from . import frameworks
from .common import DEFAULT_OPSET, say, step
from .describe import describe, image_layout
from .labels import labels_beside, teachable_machine_export
from .output import finish
from .preprocessing import preset
from .tf_function import wants_nhwc
from .tf_graph import check_supported, quiet_tf2onnx, rename_io
from .verify import image_samples, tensor_samples

TFLITE_MAGIC = b"TFL3"  # flatbuffer file identifier at byte offset 4


def _check_flatbuffer(path, data):
    """Walks every table and buffer of the flatbuffer in Python first: the
    TFLite interpreter trusts the file and crashes the process on a truncated
    one instead of raising."""
    from tf2onnx.tflite.Model import Model

    if data[4:8] != TFLITE_MAGIC:
        raise UserError(f"{path} is not a TFLite flatbuffer (no TFL3 identifier): "
                        "export it again with tf.lite.TFLiteConverter")
    try:
        model = Model.GetRootAsModel(data, 0)
        for i in range(model.SubgraphsLength()):
            graph = model.Subgraphs(i)
            for j in range(graph.TensorsLength()):
                tensor = graph.Tensors(j)
                tensor.ShapeAsNumpy(), tensor.Name(), tensor.Buffer()
            for j in range(graph.OperatorsLength()):
                operator = graph.Operators(j)
                operator.InputsAsNumpy(), operator.OutputsAsNumpy()
            graph.InputsAsNumpy(), graph.OutputsAsNumpy()
        for i in range(model.BuffersLength()):
            buffer = model.Buffers(i)
            if buffer.DataLength():
                buffer.DataAsNumpy()
            if buffer.Offset() and buffer.Offset() + buffer.Size() > len(data):
                raise ValueError("buffer past the end of the file")
    except UserError:
        raise
    except Exception as error:  # struct.error, ValueError, IndexError: out-of-range reads
        raise UserError(f"{path} is a truncated or corrupt TFLite file ({error}): "
                        "copy or export it again") from None


def _interpreter(path):
    tf = frameworks.tensorflow("converting a TFLite model")
    if not os.path.isfile(path):
        raise UserError(f"model {path} does not exist")
    with open(path, "rb") as f:
        _check_flatbuffer(path, f.read())
    try:
        with warnings.catch_warnings():
            # its deprecation note points at ai_edge_litert; the bundled one still runs
            warnings.simplefilter("ignore")
            interpreter = tf.lite.Interpreter(model_path=path)
        interpreter.allocate_tensors()
    except Exception as error:
        first = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
        raise UserError(f"TFLite cannot load {path} ({first})") from None
    return interpreter


def quantized_tensors(interpreter):
    """{"bits", "tensors"} for a TFLite model holding quantised integer tensors
    (int8 weights from dynamic-range quantisation, or a full-integer model),
    None for a float one."""
    quantized = [t for t in interpreter.get_tensor_details()
                 if np.issubdtype(t["dtype"], np.integer)
                 and len(t["quantization_parameters"]["scales"])]
    if not quantized:
        return None
    bits = min(8 * np.dtype(t["dtype"]).itemsize for t in quantized)
    return dict(bits=bits, tensors=len(quantized))


def from_tflite(path, out_path, labels=None, preprocess=None, opset=DEFAULT_OPSET, verify=True,
                sample_images=(), quantize=None):
    tf2onnx = frameworks.tf2onnx("converting a TFLite model")
    tf = frameworks.tensorflow()
    interpreter = _interpreter(path)
    inputs, outputs = interpreter.get_input_details(), interpreter.get_output_details()
    if len(inputs) != 1:
        raise UserError(f"TFLite model {path} takes {len(inputs)} inputs; edgeinfer runs "
                        "classifiers with one input tensor")
    tensor = inputs[0]
    dims = [None, *(int(d) for d in tensor["shape"][1:])]
    layout = image_layout(dims)
    nchw = bool(layout and layout[0] == "nhwc" and not wants_nhwc(preprocess))
    step(f"converting TFLite {path} with tf2onnx")
    try:
        with quiet_tf2onnx():
            model, _ = tf2onnx.convert.from_tflite(
                path, opset=opset, inputs_as_nchw=[tensor["name"]] if nchw else None)
    except Exception as error:
        first = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
        raise UserError(f"tf2onnx could not convert {path} ({type(error).__name__}: {first})") from None
    rename_io(check_supported(model, f"TFLite {path}"))
    if labels is None:
        labels = labels_beside(path)
        if labels is not None:
            say(f"labels: {len(labels)} names from labels.txt beside {os.path.basename(path)}")
    source = dict(framework="tflite", version=tf.__version__, file=os.path.basename(path),
                  format="tflite", exporter=f"tf2onnx opset {opset}")
    convention, why = "unit", "pixels / 255 assumed for a TFLite model"
    if teachable_machine_export(path):
        convention, why = "teachable-machine", "a Teachable Machine export (+ labels.txt)"
        source["format"] = "teachable-machine"
    if layout and preprocess is None:
        say(f"preprocessing: {convention!r} preset, {why}; override with --preprocess")
    info = describe(model, f"TFLite {path}", labels, preset(convention), preprocess, source)

    def reference(x):
        x = np.transpose(x, (0, 2, 3, 1)) if nchw else x
        interpreter.set_tensor(tensor["index"], x.astype(tensor["dtype"]))
        interpreter.invoke()
        return interpreter.get_tensor(outputs[0]["index"]).copy()

    samples = (image_samples(info.image, sample_images) if info.image
               else tensor_samples(dims, np.dtype(tensor["dtype"]).name))
    return finish(model, out_path, info, reference, samples, verify, f"TFLite {path}", quantize,
                  source_quantization=quantized_tensors(interpreter))
