"""The shared option vocabulary in convert, eval, collect, personalize and
preprocess, end to end through the CLI: -m/--model beside the positional
model, --json PATH with '-' for standard output, --threads N|all, --labels as a
file or a comma list, --image folders and globs, the short forms."""
import json
import os

import numpy as np
import onnx
import pytest

from edgeinfer.cli import main
from edgeinfer.media import SAMPLE_IMAGE
from edgeinfer.metadata import read_info

from learn_data import digits, few_shot_split, write_class_folders


@pytest.fixture(scope="module")
def digit_data(tmp_path_factory, digits_base):
    """The digits 0-4 base model, 5 shots each of 0, 1, 5 to teach, and a test folder."""
    root = tmp_path_factory.mktemp("vocabulary")
    base = digits_base
    images, labels = digits()
    train, test = few_shot_split(labels, (0, 1, 5), shots=5)
    return dict(base=base,
                train=write_class_folders(str(root / "train"), images[train], labels[train]),
                test=write_class_folders(str(root / "test"), images[test[::6]],
                                         labels[test[::6]]))


def run_cli(capsys, *args):
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_personalize_takes_the_model_as_m_with_threads_all_and_json(digit_data, tmp_path,
                                                                    capsys):
    out, made = tmp_path / "personal.onnx", tmp_path / "made.json"
    code, _, err = run_cli(capsys, "personalize", "-m", digit_data["base"], "--data",
                           digit_data["train"], "-o", out, "--threads", "all", "--json", made,
                           "-q")
    assert code == 0, err
    record = json.loads(made.read_text())
    assert record["samples_per_class"] == {"0": 5, "1": 5, "5": 5}
    assert read_info(onnx.load(str(out))).labels == ["0", "1", "5"]


def test_eval_models_as_m_match_the_positional_ones_and_json_dash_is_stdout_alone(
        digit_data, capsys):
    code, positional, _ = run_cli(capsys, "eval", digit_data["base"], "--data",
                                  digit_data["test"], "--json", "-")
    assert code == 0
    code, flagged, err = run_cli(capsys, "eval", "-m", digit_data["base"], "--data",
                                 digit_data["test"], "--json", "-", "--threads", "all")
    assert code == 0, err
    report, first = json.loads(flagged), json.loads(positional)  # nothing but the JSON
    for model in report["models"] + first["models"]:
        model.pop("latency_ms")  # the one part that differs between two runs
    assert report == first
    assert [m["model"] for m in report["models"]] == ["base.onnx"]
    assert "accuracy" in err  # the table went to standard error


def test_eval_json_file_is_report_json(digit_data, tmp_path, capsys):
    path, folder = tmp_path / "eval.json", tmp_path / "report"
    code, out, err = run_cli(capsys, "eval", "-m", digit_data["base"], "--data",
                             digit_data["test"], "--json", path, "--report", folder)
    assert code == 0, err
    assert "accuracy" in out
    assert json.loads(path.read_text()) == json.loads((folder / "report.json").read_text())


def test_collect_reads_image_folders_and_globs(digit_data, tmp_path, capsys):
    data = tmp_path / "data"
    zero = os.path.join(digit_data["train"], "0")
    code, _, err = run_cli(capsys, "collect", "--data", data, "-l", "digit", "--image", zero,
                           os.path.join(digit_data["train"], "1", "*.png"), "-q")
    assert code == 0, err
    assert len(os.listdir(data / "digit")) == 10


def test_convert_takes_the_source_as_m_labels_as_a_list_and_json_dash(tmp_path, capsys):
    from tools import tiny_models

    source = tiny_models.save(tiny_models.random_classifier(["a", "b"], size=(16, 16)),
                              tmp_path / "m.onnx")
    out = tmp_path / "out.onnx"
    code, printed, err = run_cli(capsys, "convert", "-m", source, "-o", out, "--labels",
                                 "cat,dog", "--json", "-", "-q")
    assert code == 0, err
    record = json.loads(printed)  # the JSON alone, not the path line too
    assert record["labels"] == ["cat", "dog"] == read_info(onnx.load(str(out))).labels
    assert record["image"]["size"] == [16, 16]


def test_convert_refuses_the_source_twice(tmp_path, capsys):
    code, _, err = run_cli(capsys, "convert", "a.onnx", "-m", "b.onnx", "-o", tmp_path / "o.onnx")
    assert code == 2 and "once" in err and len(err.strip().splitlines()) == 1


def test_preprocess_takes_image_and_o_short_form(tmp_path, capsys):
    tensor = tmp_path / "x.npy"
    code, out, err = run_cli(capsys, "preprocess", "--image", SAMPLE_IMAGE, "--size", "32,48",
                             "--repeat", "0", "-o", tensor)
    assert code == 0, err
    assert np.load(tensor).shape == (1, 3, 32, 48)
    assert os.path.basename(SAMPLE_IMAGE) in out
