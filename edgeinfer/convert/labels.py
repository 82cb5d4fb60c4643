"""Class names for convert: --labels as every command reads it (a file or a
comma list, edgeinfer/labels.py), or the labels.txt beside a Teachable Machine
export."""
import os

from ..labels import INDEXED_LINE, read_labels, read_labels_file

TEACHABLE_MACHINE_FILES = ("keras_model.h5", "model_unquant.tflite", "model.tflite")


def resolve_labels(value):
    """--labels: None, a list, or what `read_labels` takes (a file or "a,b,c")."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return read_labels(value)


def labels_beside(model_path):
    """Teachable Machine ships labels.txt next to keras_model.h5 / model.tflite."""
    candidate = os.path.join(os.path.dirname(os.path.abspath(model_path)), "labels.txt")
    return read_labels_file(candidate) if os.path.isfile(candidate) else None


def teachable_machine_export(model_path):
    """Teachable Machine writes keras_model.h5, model_unquant.tflite or
    model.tflite beside a labels.txt of "0 Name" lines."""
    if os.path.basename(model_path) not in TEACHABLE_MACHINE_FILES:
        return False
    candidate = os.path.join(os.path.dirname(os.path.abspath(model_path)), "labels.txt")
    try:
        with open(candidate, encoding="utf-8") as f:
            lines = [line.strip() for line in f if line.strip()]
    except (OSError, UnicodeDecodeError):
        return False
    return bool(lines) and all(INDEXED_LINE.match(line) for line in lines)
