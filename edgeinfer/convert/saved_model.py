"""TensorFlow SavedModel directories (model.export(), tf.saved_model.save)
to ONNX through their serving signature."""
import os

from ..errors import UserError
from . import frameworks
from .common import DEFAULT_OPSET, say
from .labels import labels_beside
from .preprocessing import preset
from .tf_function import convert_function

SIGNATURE = "serving_default"


def load_signature(path):
    tf = frameworks.tensorflow()
    if not os.path.isfile(os.path.join(path, "saved_model.pb")):
        raise UserError(f"{path} is a directory but not a TensorFlow SavedModel (it has no "
                        "saved_model.pb): give a .keras/.h5/.tflite/.pt/.onnx file or a SavedModel "
                        "directory")
    try:
        loaded = tf.saved_model.load(path)
    except Exception as error:
        first = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
        raise UserError(f"TensorFlow cannot load the SavedModel {path} ({first})") from None
    if SIGNATURE not in loaded.signatures:
        raise UserError(f"SavedModel {path} has no {SIGNATURE!r} signature (it has: "
                        f"{', '.join(loaded.signatures) or 'none'}); export it with model.export()")
    return loaded, loaded.signatures[SIGNATURE]


def from_saved_model(path, out_path, labels=None, preprocess=None, opset=DEFAULT_OPSET,
                     verify=True, sample_images=(), quantize=None):
    tf = frameworks.tensorflow()
    loaded, signature = load_signature(path)
    inputs = signature.structured_input_signature[1]
    if len(inputs) != 1:
        raise UserError(f"SavedModel {path} takes {len(inputs)} inputs; edgeinfer runs classifiers "
                        "with one input tensor")
    (key, spec), = inputs.items()
    output_key = sorted(signature.structured_outputs)[0]
    if labels is None:
        labels = labels_beside(os.path.join(path, "saved_model.pb"))
    if len(spec.shape) == 4 and preprocess is None:
        say("preprocessing: 'unit' preset (pixels / 255) assumed for a SavedModel; "
            "override with --preprocess")

    def call(x):
        return signature(**{key: x})[output_key]

    source = dict(framework="tensorflow", version=tf.__version__, format="savedmodel",
                  file=os.path.basename(os.path.normpath(path)))
    return convert_function(call, tuple(spec.shape), spec.dtype.name, out_path,
                            f"SavedModel {path}", source, labels, preset("unit"), preprocess,
                            opset, verify, sample_images, quantize)
