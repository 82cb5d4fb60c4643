"""An existing ONNX file: load it, describe it, prove it runs in onnxruntime,
and write it back with the labels and preprocessing it was given."""
import os

from ..errors import UserError
from ..metadata import MetadataError, read_info
from .common import say
from .describe import describe, single_input
from .output import finish
from .preprocessing import preset, spec_words
from .verify import image_samples, tensor_samples


def load_onnx(path):
    import onnx

    if not os.path.isfile(path):
        raise UserError(f"model {path} does not exist")
    try:
        return onnx.load(path)
    except Exception as error:  # protobuf DecodeError and friends
        first = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
        raise UserError(f"{path} is not a readable ONNX model ({first})") from None


def _say_default_preprocessing(image, dims, previous):
    if previous and previous.image:
        why = "kept from the file's edgeinfer metadata"
    else:
        why = "'imagenet' preset, as the file has no edgeinfer metadata"
    fixed = all(dims[axis] for axis in ((2, 3) if image.layout == "nchw" else (1, 2)))
    size = ("the model's fixed input size" if fixed
            else "the model's input size is free; give size=H,W if it was trained at another")
    say(f"preprocessing: {why}: {spec_words(image)} ({size}); override with --preprocess")


def from_onnx(path, out_path, labels=None, preprocess=None, verify=True, sample_images=(),
              quantize=None, output_name=None):
    """Annotates an ONNX file. Its existing edgeinfer metadata, if any, is the
    starting point that labels and preprocess override; output_name picks the
    scores output of a model with several."""
    model = load_onnx(path)
    try:
        previous = read_info(model, path)
    except MetadataError as error:
        raise UserError(str(error)) from None
    defaults = previous.image if previous and previous.image else preset("imagenet")
    if labels is None and previous:
        labels = previous.labels or None
    source = dict(previous.source) if previous else dict(framework="onnx", file=os.path.basename(path))
    source.setdefault("producer", f"{model.producer_name} {model.producer_version}".strip())
    if output_name is None and previous:
        output_name = previous.output_name
    info = describe(model, path, labels, defaults, preprocess, source, output_name)
    if previous and preprocess is None:
        info.output = previous.output
    _, dims, dtype = single_input(model, path)
    if info.image and preprocess is None:
        _say_default_preprocessing(info.image, dims, previous)
    samples = image_samples(info.image, sample_images) if info.image else tensor_samples(dims, dtype)
    # there is no other framework to compare with: prove it loads and runs, and
    # leave the graph as its author wrote it
    return finish(model, out_path, info, None, samples, verify, f"ONNX {path}", quantize,
                  simplify=False)
