"""TensorFlow functions to ONNX through tf2onnx, shared by the Keras,
SavedModel and TFLite paths, and the renaming that gives every converted
model the same input and output names."""
from ..errors import UserError
from . import frameworks

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


def function_to_onnx(function, input_spec, opset, nchw, origin):
    """A tf.function with one input -> onnx.ModelProto; nchw asks tf2onnx to
    expose the NHWC image input as NCHW (its transposes then cancel out)."""
    tf2onnx = frameworks.tf2onnx()
    try:
        model, _ = tf2onnx.convert.from_function(
            function, input_signature=[input_spec], opset=opset,
            inputs_as_nchw=[f"{INPUT_NAME}:0"] if nchw else None)
    except Exception as error:  # tf2onnx raises anything from KeyError to ValueError
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise UserError(f"tf2onnx could not convert {origin} ({type(error).__name__}: {first[:200]}); "
                        "a layer may have no ONNX equivalent") from None
    return rename_io(model)
