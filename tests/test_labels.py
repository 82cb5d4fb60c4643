"""One labels reader for `run --labels` and `convert --labels`."""
import json

import onnx
import pytest

from edgeinfer.convert.labels import resolve_labels
from edgeinfer.errors import UserError
from edgeinfer.labels import read_labels
from edgeinfer.media import SAMPLE_IMAGE
from edgeinfer.metadata import read_info
from tools import tiny_models

LINES = {
    "teachable machine": ("0 cat\n1 dog\n2 background\n", ["cat", "dog", "background"]),
    "plain names": ("tabby cat\nespresso\nbackground\n", ["tabby cat", "espresso", "background"]),
    "utf-8 bom and crlf": ("\ufeff0 cat\r\n1 dog\r\n2 background\r\n", ["cat", "dog",
                                                                       "background"]),
    "json list": ('["cat", "dog", "background"]', ["cat", "dog", "background"]),
    "numbers that do not count from 0": ("7 cat\n8 dog\n9 mouse\n", ["7 cat", "8 dog", "9 mouse"]),
}


@pytest.mark.parametrize("case", sorted(LINES))
def test_run_and_convert_read_one_labels_file_alike(tmp_path, case):
    text, names = LINES[case]
    path = tmp_path / "labels.txt"
    path.write_text(text, encoding="utf-8")
    assert read_labels(str(path)) == names
    assert resolve_labels(str(path)) == names


def test_run_labels_strips_teachable_machine_indices(tmp_path, cli):
    """`run --labels labels.txt` from a Teachable Machine export gave '0 cat'."""
    model = tiny_models.save(tiny_models.random_classifier(["a", "b"], size=(16, 16)),
                             tmp_path / "m.onnx")
    (tmp_path / "labels.txt").write_text("0 cat\n1 dog\n")
    out = tmp_path / "out.jsonl"
    code, _, err = cli("run", "--model", model, "--image", SAMPLE_IMAGE,
                       "--labels", tmp_path / "labels.txt", "--json", out, "--top-k", "2")
    assert code == 0, err
    record = json.loads(out.read_text().splitlines()[0])
    assert sorted(entry["label"] for entry in record["top"]) == ["cat", "dog"]
    converted = tmp_path / "converted.onnx"
    code, _, err = cli("convert", model, "-o", converted, "--labels", tmp_path / "labels.txt",
                       "--no-verify")
    assert code == 0, err
    assert read_info(onnx.load(str(converted))).labels == ["cat", "dog"]


def test_labels_file_errors_are_one_line(tmp_path):
    (tmp_path / "blank.txt").write_text("\n\n")
    (tmp_path / "latin1.txt").write_bytes("caf\xe9\n".encode("latin-1"))
    for name, words in (("missing.txt", "does not exist"), ("blank.txt", "no class names"),
                        ("latin1.txt", "not UTF-8")):
        with pytest.raises(UserError, match=words):
            read_labels(str(tmp_path / name))


def test_labels_take_a_comma_list_as_well_as_a_file(tmp_path, monkeypatch):
    """`run --labels cat,dog,cup` looked for a file named so."""
    assert read_labels("cat, dog,cup") == ["cat", "dog", "cup"]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a,b").write_text("tabby\nespresso\n")
    assert read_labels("a,b") == ["tabby", "espresso"]  # a path that exists is a file
    with pytest.raises(UserError, match="no comma list either"):
        read_labels("cats.txt")
    with pytest.raises(UserError, match="no class names"):
        read_labels(",,")


def test_run_labels_as_a_comma_list(tmp_path, cli):
    model = tiny_models.save(tiny_models.random_classifier(["a", "b"], size=(16, 16)),
                             tmp_path / "m.onnx")
    out = tmp_path / "out.jsonl"
    code, _, err = cli("run", "--model", model, "--image", SAMPLE_IMAGE, "--labels", "cat,dog",
                       "--json", out)
    assert code == 0, err
    record = json.loads(out.read_text().splitlines()[0])
    assert sorted(entry["label"] for entry in record["top"]) == ["cat", "dog"]


def test_a_labels_folder_is_one_line(tmp_path):
    with pytest.raises(UserError, match="is a folder"):
        read_labels(str(tmp_path))
