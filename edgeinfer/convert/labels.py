"""Class names from a file or a comma-separated list."""
import os
import re

from ..errors import UserError

# Teachable Machine writes "0 Class 1", "1 Class 2", ...
INDEXED_LINE = re.compile(r"^(\d+)\s+(.*\S)\s*$")
TEACHABLE_MACHINE_FILES = ("keras_model.h5", "model_unquant.tflite", "model.tflite")


def parse_label_lines(lines, origin):
    """Names from lines; "N name" lines whose N count 0, 1, 2, ... lose the N."""
    names = [line.strip() for line in lines if line.strip()]
    matches = [INDEXED_LINE.match(name) for name in names]
    if names and all(matches) and [int(m.group(1)) for m in matches] == list(range(len(names))):
        names = [m.group(2) for m in matches]
    if not names:
        raise UserError(f"labels {origin} holds no class names: give one name per line")
    return names


def read_labels_file(path):
    try:
        with open(path, encoding="utf-8") as f:
            return parse_label_lines(f.read().splitlines(), path)
    except OSError as error:
        raise UserError(f"cannot read labels file {path} ({error.strerror})") from None
    except UnicodeDecodeError:
        raise UserError(f"labels file {path} is not UTF-8 text: give one class name per line") from None


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
