"""Class names for convert: a file (read as `run --labels` reads it), a
comma-separated list, or the labels.txt beside a Teachable Machine export."""
import os

from ..errors import UserError
from ..labels import INDEXED_LINE, parse_label_lines, read_labels

TEACHABLE_MACHINE_FILES = ("keras_model.h5", "model_unquant.tflite", "model.tflite")

# one reader for `run --labels` and `convert --labels`
read_labels_file = read_labels


def resolve_labels(value):
    """--labels: None, a list, a file path, or "a,b,c"."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    if os.path.isfile(value):
        return read_labels_file(value)
    if "," in value:
        return parse_label_lines(value.split(","), "list")
    raise UserError(f"--labels {value!r} is neither a file nor a comma-separated list of names")


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
