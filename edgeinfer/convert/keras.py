"""Keras 3 `.keras`, legacy `.h5` (Teachable Machine's keras_model.h5 among
them) and TensorFlow SavedModel directories to ONNX.

Converts through a traced tf.function, as keras.Model.export(format="onnx")
does, rather than tf2onnx.convert.from_keras, which fails on Keras 3
Sequential models (KeyError: 'keras_tensor_N')."""
import json
import os
import shutil
import tempfile

from ..errors import UserError
from . import frameworks
from .common import DEFAULT_OPSET, say, step
from .labels import labels_beside, teachable_machine_export
from .preprocessing import preset
from .tf_function import convert_function

# keras.applications models by name prefix, and the input each expects
KERAS_APPLICATIONS = (
    ("mobilenet", "tf"), ("inception", "tf"), ("xception", "tf"), ("nasnet", "tf"),
    ("resnet50v2", "tf"), ("resnet101v2", "tf"), ("resnet152v2", "tf"),
    ("resnet", "caffe"), ("vgg", "caffe"),
    ("densenet", "imagenet"),
    ("efficientnet", "pixels"), ("convnext", "pixels"), ("regnet", "pixels"),
)
RESCALING_LAYERS = ("Rescaling", "Normalization")


KERAS2_ONLY_MODULES = ("tf_keras.", "keras.engine.", "keras.src.engine.")


def _input_layer_first(sequential):
    """Keras 2 let the first layer of a Sequential carry the input shape
    (Dense(10, input_shape=...)); Keras 3 wants an InputLayer."""
    layers = sequential.get("layers")
    if not layers or layers[0].get("class_name") == "InputLayer":
        return 0
    first = layers[0].get("config", {})
    if "batch_input_shape" not in first:
        return 0
    layers.insert(0, {"class_name": "InputLayer", "config": {
        "batch_input_shape": first["batch_input_shape"], "dtype": first.get("dtype", "float32"),
        "name": f"{first.get('name', 'layer')}_input"}})
    return 1


def keras2_config_fixes(config):
    """Rewrites, in place, what Keras 2 (tf.keras, and so Teachable Machine)
    wrote into .h5 model configs and Keras 3 rejects: DepthwiseConv2D's
    `groups: 1` (meaningless for a depthwise layer), BatchNormalization's
    one-element `axis` list, and input shapes on layers other than InputLayer.
    Returns how many places it changed."""
    changed = 0
    if isinstance(config, dict):
        if str(config.get("module", "")).startswith(KERAS2_ONLY_MODULES):
            # e.g. tf_keras.src.engine.functional: found by class name in Keras 3
            del config["module"]
            changed += 1
        layer = config.get("config") if isinstance(config.get("config"), dict) else None
        if layer is not None and config.get("class_name") == "Sequential":
            changed += _input_layer_first(layer)
        if layer is not None and config.get("class_name") not in ("InputLayer", None) and \
                "batch_input_shape" in layer and "layers" not in layer:
            del layer["batch_input_shape"]
            changed += 1
        if layer is not None and config.get("class_name") == "DepthwiseConv2D" and "groups" in layer:
            if layer.pop("groups") != 1:
                raise ValueError("a DepthwiseConv2D layer has groups != 1")
            changed += 1
        if layer is not None and config.get("class_name") == "BatchNormalization" and \
                isinstance(layer.get("axis"), list) and len(layer["axis"]) == 1:
            layer["axis"] = layer["axis"][0]
            changed += 1
        for value in config.values():
            changed += keras2_config_fixes(value)
    elif isinstance(config, list):
        for value in config:
            changed += keras2_config_fixes(value)
    return changed


def _first_line(error):
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:200]


def _load_h5(keras, path):
    """A legacy .h5 model, through a patched copy when its config needs the
    Keras 2 fixes (custom layer classes cannot do it: Keras 3 resolves layers
    inside nested Sequential models to its own classes)."""
    import h5py

    with h5py.File(path, "r") as f:
        raw = f.attrs.get("model_config")
    if raw is None:
        raise ValueError("the file holds weights only, no model config: save it with model.save()")
    config = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
    if not keras2_config_fixes(config):
        return keras.models.load_model(path, compile=False)
    with tempfile.TemporaryDirectory(prefix="edgeinfer-h5-") as tmp:
        patched = os.path.join(tmp, os.path.basename(path))
        shutil.copyfile(path, patched)
        with h5py.File(patched, "r+") as f:
            f.attrs["model_config"] = json.dumps(config)
        return keras.models.load_model(patched, compile=False)


def load_keras(path):
    keras = frameworks.keras()
    if not os.path.exists(path):
        raise UserError(f"model {path} does not exist")
    step(f"loading Keras {os.path.basename(path)}")
    try:
        if path.lower().endswith((".h5", ".hdf5")):
            return _load_h5(keras, path)
        return keras.models.load_model(path, compile=False)
    except Exception as error:  # h5py, zipfile, json and Keras errors all mean "cannot load"
        raise UserError(f"Keras cannot load {path} ({type(error).__name__}: {_first_line(error)}); "
                        "check the file is complete and was saved with model.save(), and that any "
                        "custom layer is importable") from None


def _default_preprocessing(model):
    name = model.name.lower()
    for prefix, convention in KERAS_APPLICATIONS:
        if name.startswith(prefix):
            return convention, f"keras.applications {model.name}"
    first = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"][:1]
    if first and type(first[0]).__name__ in RESCALING_LAYERS:
        return "pixels", f"its first layer, {type(first[0]).__name__}, scales pixels itself"
    return "unit", "no rescaling layer found, so pixels are assumed divided by 255"


def from_keras(model_or_path, out_path, labels=None, preprocess=None, opset=DEFAULT_OPSET,
               verify=True, sample_images=(), quantize=None):
    """Converts a keras.Model, or a .keras / .h5 file or SavedModel directory, to out_path."""
    keras = frameworks.keras()
    path = model_or_path if isinstance(model_or_path, (str, os.PathLike)) else None
    if path is not None:
        path = os.fspath(path)
        if os.path.isdir(path):
            from .saved_model import from_saved_model
            return from_saved_model(path, out_path, labels=labels, preprocess=preprocess,
                                    opset=opset, verify=verify, sample_images=sample_images,
                                    quantize=quantize)
        model = load_keras(path)
    elif isinstance(model_or_path, keras.Model):
        model = model_or_path
    else:
        raise UserError(f"from_keras takes a keras.Model or a path, got {type(model_or_path).__name__}")
    if len(model.inputs) != 1:
        raise UserError(f"Keras model {model.name} has {len(model.inputs)} inputs; edgeinfer "
                        "runs classifiers with one input tensor")
    origin = f"Keras {os.path.basename(path) if path else model.name}"
    source = dict(framework="keras", version=keras.__version__, model=model.name)
    if path:
        source.update(file=os.path.basename(path), format=os.path.splitext(path)[1].lstrip("."))
        found_labels = labels_beside(path) if labels is None else None
        if found_labels is not None:
            say(f"labels: {len(found_labels)} names from labels.txt beside {os.path.basename(path)}")
            labels = found_labels
    if path and teachable_machine_export(path):
        convention, why = "teachable-machine", "a Teachable Machine export (keras_model.h5 + labels.txt)"
        source["format"] = "teachable-machine"
    else:
        convention, why = _default_preprocessing(model)
    shape = tuple(model.inputs[0].shape)
    if len(shape) == 4 and preprocess is None:
        say(f"preprocessing: {convention!r} preset, as {why}; override with --preprocess")
    defaults = preset(convention)

    def call(x):
        return model(x, training=False)

    dtype = getattr(model.inputs[0].dtype, "name", model.inputs[0].dtype) or "float32"
    return convert_function(call, shape, dtype, out_path, origin, source, labels, defaults,
                            preprocess, opset, verify, sample_images, quantize)
