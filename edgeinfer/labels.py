"""Reading class names from a file: one per line, or a JSON list."""
import json
import os

from .errors import UserError


def read_labels(path):
    if not os.path.isfile(path):
        raise UserError(f"labels file {path} does not exist: give a text file with one label "
                        "per line")
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(f"cannot read labels file {path}: {error}") from None
    if text.lstrip().startswith("["):
        try:
            labels = json.loads(text)
        except json.JSONDecodeError as error:
            raise UserError(f"labels file {path} looks like JSON but is not valid ({error})") \
                from None
        if not isinstance(labels, list):
            raise UserError(f"labels file {path}: expected a JSON list of names")
        return [str(label) for label in labels]
    lines = [line.strip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    if not lines:
        raise UserError(f"labels file {path} is empty: one label per line, in class order")
    return lines
