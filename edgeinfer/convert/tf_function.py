"""A traced TensorFlow function to a verified ONNX file: the tail the Keras
and SavedModel converters share (and the layout choice TFLite shares too)."""
import warnings
from dataclasses import replace

import numpy as np

from ..metadata import ImageInput
from . import frameworks
from .describe import describe, image_layout
from .output import finish
from .preprocessing import apply_spec
from .tf_graph import INPUT_NAME, function_to_onnx
from .verify import image_samples, tensor_samples


def wants_nhwc(preprocess):
    probe = apply_spec(replace(ImageInput(), layout="unset"), preprocess)
    return probe.layout == "nhwc"


def convert_function(function, input_shape, dtype, out_path, origin, source, labels, defaults,
                     preprocess, opset, verify, sample_images, quantize):
    """The shared tail of the Keras and SavedModel paths: function takes one
    NHWC (or non-image) tensor."""
    tf = frameworks.tensorflow()
    dims = [None, *input_shape[1:]]
    image = image_layout(dims) is not None and image_layout(dims)[0] == "nhwc"
    nchw = image and not wants_nhwc(preprocess)
    spec = tf.TensorSpec(dims, dtype, name=INPUT_NAME)
    traced = tf.function(function, input_signature=[spec])
    with warnings.catch_warnings():
        # Keras 2 files name their nested inputs; Keras 3 warns when tracing them
        warnings.filterwarnings("ignore", message="The structure of `inputs`")
        model = function_to_onnx(traced, spec, opset, nchw, origin)
    source = dict(tensorflow=tf.__version__, exporter=f"tf2onnx opset {opset}", **source)
    info = describe(model, origin, labels, defaults, preprocess, source)

    def reference(x):
        x = np.transpose(x, (0, 2, 3, 1)) if nchw else x
        out = traced(tf.constant(x))
        return (out[0] if isinstance(out, (list, tuple)) else out).numpy()

    samples = image_samples(info.image, sample_images) if info.image else tensor_samples(dims, dtype)
    return finish(model, out_path, info, reference, samples, verify, origin, quantize)
