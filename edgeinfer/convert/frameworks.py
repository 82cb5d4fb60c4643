"""Importing the heavy frameworks only when a conversion needs them, with a
message that says how to install them when they are missing.

The runtime never reaches this module: `import edgeinfer` and loading a model
must work on a Pi that has neither TensorFlow nor PyTorch."""
import importlib
import os
import sys

from ..errors import UserError
from .common import step

INSTALL_HINT = ("install the converter extras: `pip install '.[convert]'` in the edgeinfer "
                "checkout, or `make dev`")
NAMES = {"tensorflow": "TensorFlow", "torch": "PyTorch", "keras": "Keras", "tf2onnx": "tf2onnx"}


def _require(module, purpose):
    if module not in sys.modules:
        step(f"loading {NAMES.get(module, module)}")  # TensorFlow alone takes seconds
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise UserError(f"{purpose} needs the Python package {module!r} ({error}): "
                        f"{INSTALL_HINT}") from None


def tensorflow(purpose="converting a TensorFlow/Keras model"):
    # TensorFlow's C++ start-up chatter would bury the one line we print. Without
    # oneDNN's reordered float sums TF is also the plainer reference to verify against.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    tf = _require("tensorflow", purpose)
    tf.get_logger().setLevel("ERROR")
    return tf


def keras(purpose="converting a Keras model"):
    tensorflow(purpose)
    return _require("keras", purpose)


def tf2onnx(purpose="converting a TensorFlow/Keras/TFLite model"):
    tensorflow(purpose)
    return _require("tf2onnx", purpose)


def torch(purpose="converting a PyTorch model"):
    return _require("torch", purpose)
