"""Reading class names: `--labels` is a file (one name per line, Teachable
Machine's "0 cat" lines losing their index, or a JSON list) or a comma list
(`cat,dog,cup`). Every command's --labels reads through here, so one value
gives the same names everywhere."""
import json
import os
import re

from .errors import UserError

# Teachable Machine writes "0 Class 1", "1 Class 2", ...
INDEXED_LINE = re.compile(r"^(\d+)\s+(.*\S)\s*$")


def parse_label_lines(lines, origin):
    """Names from lines; "N name" lines whose N count 0, 1, 2, ... lose the N."""
    names = [line.strip() for line in lines if line.strip()]
    matches = [INDEXED_LINE.match(name) for name in names]
    if names and all(matches) and [int(m.group(1)) for m in matches] == list(range(len(names))):
        names = [m.group(2) for m in matches]
    if not names:
        raise UserError(f"labels {origin} holds no class names: give one name per line")
    return names


def read_labels(value):
    """The names `--labels value` means: a path that exists is read as a file;
    anything else with a comma in it is a list of names."""
    value = str(value)
    if os.path.exists(value):
        return read_labels_file(value)
    if "," in value:
        return parse_label_lines(value.split(","), f"list {value!r}")
    raise UserError(f"labels file {value} does not exist, and it is no comma list either: "
                    "give a text file with one label per line, or the names as a,b,c")


def read_labels_file(path):
    if not os.path.isfile(path):
        raise UserError(f"labels {path} is a folder: give a text file with one label per line, "
                        "or the names as a,b,c")
    try:
        with open(path, encoding="utf-8-sig") as f:
            text = f.read()
    except OSError as error:
        raise UserError(f"cannot read labels file {path} ({error.strerror})") from None
    except UnicodeDecodeError:
        raise UserError(f"labels file {path} is not UTF-8 text: give one class name per "
                        "line") from None
    if text.lstrip().startswith("["):
        try:
            labels = json.loads(text)
        except json.JSONDecodeError as error:
            raise UserError(f"labels file {path} looks like JSON but is not valid ({error})") \
                from None
        if not isinstance(labels, list):
            raise UserError(f"labels file {path}: expected a JSON list of names")
        return [str(label) for label in labels]
    return parse_label_lines(text.splitlines(), f"file {path}")
