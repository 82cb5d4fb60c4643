"""Models from Keras, PyTorch, Teachable Machine, TFLite or ONNX into one
verified, self-describing ONNX file.

Nothing here imports TensorFlow or PyTorch until a conversion needs it."""
import os

from ..errors import UserError


def from_torch(module, out_path, **options):
    from .torch import from_torch as convert
    return convert(module, out_path, **options)


def from_keras(model_or_path, out_path, **options):
    from .keras import from_keras as convert
    return convert(model_or_path, out_path, **options)


def from_tflite(path, out_path, **options):
    from .tflite import from_tflite as convert
    return convert(path, out_path, **options)


def from_onnx(path, out_path, **options):
    from .onnx import from_onnx as convert
    return convert(path, out_path, **options)


def from_torchscript(path, out_path, **options):
    from .torch import from_torchscript as convert
    return convert(path, out_path, **options)


SOURCE_KINDS = {
    ".keras": from_keras, ".h5": from_keras, ".hdf5": from_keras,
    ".tflite": from_tflite,
    ".pt": from_torchscript, ".pth": from_torchscript, ".torchscript": from_torchscript,
    ".onnx": from_onnx,
}


def convert_file(source, out_path, **options):
    """Converts whatever source is, told by its extension (or a SavedModel directory)."""
    input_shape = options.pop("input_shape", None)
    output_name = options.pop("output_name", None)
    if os.path.isdir(source):
        return from_keras(source, out_path, **options)
    extension = os.path.splitext(source)[1].lower()
    if extension not in SOURCE_KINDS:
        raise UserError(f"cannot tell what kind of model {source} is from its extension: give a "
                        f"{', '.join(SOURCE_KINDS)} file or a SavedModel directory")
    if not os.path.exists(source):
        raise UserError(f"model {source} does not exist")
    if os.path.abspath(source) == os.path.abspath(out_path):
        raise UserError(f"output {out_path} is the source model itself: give another -o path")
    convert = SOURCE_KINDS[extension]
    if convert is from_torchscript and input_shape:
        options["input_shape"] = input_shape
    if convert is from_onnx:
        options.pop("opset", None)
        options["output_name"] = output_name
    elif output_name is not None:
        raise UserError("--output-name picks an output of an ONNX model: convert this one "
                        "first, then `edgeinfer convert model.onnx -o out.onnx --output-name "
                        f"{output_name}`")
    return convert(source, out_path, **options)


__all__ = ["from_torch", "from_keras", "from_tflite", "from_onnx", "from_torchscript",
           "convert_file"]
