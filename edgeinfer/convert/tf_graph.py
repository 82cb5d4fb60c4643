"""TensorFlow functions to ONNX through tf2onnx, shared by the Keras,
SavedModel and TFLite paths, and the renaming that gives every converted
model the same input and output names."""
import logging
from contextlib import contextmanager

from ..errors import UserError
from . import frameworks
from .common import step

INPUT_NAME = "input"
OUTPUT_NAME = "output"


def rename_io(model, input_name=INPUT_NAME, output_name=OUTPUT_NAME):
    """Gives the first graph input and output stable names, whatever the
    framework called them (tf2onnx keeps "Identity:0", "serving_default_x:0")."""
    renames = {model.graph.input[0].name: input_name, model.graph.output[0].name: output_name}
    for old, new in list(renames.items()):
        if old == new:
            del renames[old]
    for node in model.graph.node:
        for i, name in enumerate(node.input):
            if name in renames:
                node.input[i] = renames[name]
        for i, name in enumerate(node.output):
            if name in renames:
                node.output[i] = renames[name]
    for value in list(model.graph.input) + list(model.graph.output):
        if value.name in renames:
            value.name = renames[value.name]
    for value in (model.graph.input[0], model.graph.output[0]):
        dims = value.type.tensor_type.shape.dim
        if dims and not dims[0].HasField("dim_value"):
            dims[0].dim_param = "batch"  # tf2onnx names free axes unk__N
    return model


@contextmanager
def quiet_tf2onnx():
    """tf2onnx logs each unsupported op with a traceback; we report them in one line."""
    logger = logging.getLogger("tf2onnx")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def check_supported(model, origin):
    """tf2onnx keeps TensorFlow ops it cannot translate as nodes of the same
    name, which no ONNX runtime knows: name them instead of failing later."""
    import onnx

    def nodes(graph):  # with the bodies of If and Loop nodes
        for node in graph.node:
            yield node
            for attribute in node.attribute:
                for sub in [attribute.g] if attribute.HasField("g") else attribute.graphs:
                    yield from nodes(sub)

    unknown = sorted({node.op_type for node in nodes(model.graph)
                      if node.domain in ("", "ai.onnx") and not onnx.defs.has(node.op_type)})
    if unknown:
        raise UserError(f"{origin} uses TensorFlow operations with no ONNX equivalent "
                        f"({', '.join(unknown)}): replace the layers that use them, or compute "
                        "that part outside the model")
    return model


def freeze_captured_tensors(model, concrete_function):
    """Turns graph inputs that stand for tensors the traced function captured
    (not variables, which tf2onnx freezes, but constants such as the mean and
    variance of an adapted keras Normalization layer) into initializers, so the
    model keeps its one real input."""
    from onnx import numpy_helper

    captured = {internal.name: external
                for internal, external in zip(concrete_function.graph.internal_captures,
                                              concrete_function.captured_inputs)
                if external.dtype.name != "resource"}
    frozen = [value for value in model.graph.input if value.name in captured]
    for value in frozen:
        array = captured[value.name].numpy()
        model.graph.initializer.append(numpy_helper.from_array(array, value.name))
        model.graph.input.remove(value)
    return model


def function_to_onnx(function, input_spec, opset, nchw, origin):
    """A tf.function with one input -> onnx.ModelProto; nchw asks tf2onnx to
    expose the NHWC image input as NCHW (its transposes then cancel out)."""
    tf2onnx = frameworks.tf2onnx()
    step(f"converting {origin} with tf2onnx")
    try:
        with quiet_tf2onnx():
            model, _ = tf2onnx.convert.from_function(
                function, input_signature=[input_spec], opset=opset,
                inputs_as_nchw=[f"{INPUT_NAME}:0"] if nchw else None)
    except Exception as error:  # tf2onnx raises anything from KeyError to ValueError
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise UserError(f"tf2onnx could not convert {origin} ({type(error).__name__}: {first[:200]}); "
                        "a layer may have no ONNX equivalent") from None
    # the same concrete function tf2onnx traced: tf.function caches it per signature
    model = freeze_captured_tensors(model, function.get_concrete_function(input_spec))
    return rename_io(check_supported(model, origin))
