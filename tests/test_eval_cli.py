"""edgeinfer eval through the CLI on real 8x8 digits: the numbers against a
count made here from the same predictions, label matching by name (a class
a model does not know counts as wrong and is named), a labelled sensor CSV,
the report files and the confusion PNG, and bad input refused in one line."""
import json
import os

import cv2
import numpy as np
import onnx
import pytest

from edgeinfer.cli import main
from edgeinfer.learn.metrics import OTHER

from learn_data import digits, few_shot_split, write_base_model, write_class_folders
from test_learn_cli import _sensor_model


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    """The base model (digits 0-4), a personalised one on 5 shots of 0, 1, 5,
    6, and a test folder of 0, 1, 5, 6 scans."""
    root = tmp_path_factory.mktemp("eval")
    base = write_base_model(str(root / "base.onnx"))
    images, labels = digits()
    train, test = few_shot_split(labels, (0, 1, 5, 6), shots=5)
    train_dir = write_class_folders(str(root / "train"), images[train], labels[train])
    test = test[::4]
    test_dir = write_class_folders(str(root / "test"), images[test], labels[test])
    personal = str(root / "personal.onnx")
    assert main(["personalize", base, "--data", train_dir, "-o", personal]) == 0
    return dict(root=root, base=base, personal=personal, train=train_dir, test=test_dir,
                truth=[str(d) for d in labels[test]])


def test_eval_report_matches_its_own_predictions(scene, tmp_path, capsys):
    out = str(tmp_path / "report")
    assert main(["eval", scene["base"], scene["personal"], "--data", scene["test"],
                 "--baseline", "knn", "--train", scene["train"], "--report", out,
                 "--plot"]) == 0
    printed = capsys.readouterr().out
    report = json.load(open(os.path.join(out, "report.json")))
    lines = [json.loads(line) for line in open(os.path.join(out, "predictions.jsonl"))]
    assert len(lines) == len(scene["truth"])
    assert sorted(line["truth"] for line in lines) == sorted(scene["truth"])
    names = [m["model"] for m in report["models"]]
    assert names == ["base.onnx", "personal.onnx", "knn on base.onnx features"]
    for model in report["models"]:
        predicted = [line["predictions"][model["model"]]["label"] for line in lines]
        truth = [line["truth"] for line in lines]
        right = sum(p == t for p, t in zip(predicted, truth))
        assert model["correct"] == right and model["accuracy"] == round(right / len(lines), 4)
        for name, c in model["per_class"].items():
            called = sum(p == name for p in predicted)
            hits = sum(p == t == name for p, t in zip(predicted, truth))
            assert c["support"] == truth.count(name)
            assert c["precision"] == round(hits / called if called else 0.0, 4)
            assert c["recall"] == round(hits / truth.count(name), 4)
        counts = np.asarray(model["confusion"]["counts"])
        assert counts.sum() == len(lines) and np.trace(counts) == right
        assert model["latency_ms"]["mean"] > 0 and model["latency_ms"]["p90"] > 0
    personal = report["models"][1]
    assert personal["accuracy"] > 0.9 and personal["unknown_classes"] == []
    assert "| personal.onnx |" in printed and "| personal.onnx |" in \
        open(os.path.join(out, "report.md")).read()
    image = cv2.imread(os.path.join(out, "confusion-personal.onnx.png"))
    assert image is not None and image.shape[0] > 100 and image.shape[1] > 100


@pytest.mark.parametrize("head", ["softmax", "knn"])
def test_personalised_model_first_with_knn_baseline_embeds_with_its_trunk(scene, tmp_path,
                                                                          head):
    # the baseline cut the personalised file's trunk a second time, making a
    # second tensor named "embedding", and onnxruntime refused the graph
    personal = str(tmp_path / f"personal-{head}.onnx")
    assert main(["personalize", scene["base"], "--data", scene["train"], "-o", personal,
                 "--head", head]) == 0
    reports = {}
    for first in (personal, scene["base"]):
        out = str(tmp_path / f"report-{os.path.basename(first)}")
        assert main(["eval", first, "--data", scene["test"], "--baseline", "knn", "--train",
                     scene["train"], "--report", out]) == 0
        lines = [json.loads(line) for line in open(os.path.join(out, "predictions.jsonl"))]
        name = f"knn on {os.path.basename(first)} features"
        reports[first] = [line["predictions"][name]["label"] for line in lines]
    # the personalised file's embedding is its base's: the same nearest neighbours
    assert reports[personal] == reports[scene["base"]]


def test_classes_a_model_does_not_know_count_as_wrong_and_are_named(scene, tmp_path, capsys):
    out = str(tmp_path / "report")
    assert main(["eval", scene["base"], "--data", scene["test"], "--report", out]) == 0
    printed = capsys.readouterr().out
    model = json.load(open(os.path.join(out, "report.json")))["models"][0]
    # the base knows 0-4: every 5 and 6 is wrong, the 0s and 1s mostly right
    assert model["unknown_classes"] == ["5", "6"]
    assert model["per_class"]["5"]["recall"] == 0 and model["per_class"]["6"]["recall"] == 0
    assert model["confusion"]["columns"][-1] == OTHER
    known = model["per_class"]["0"]["support"] + model["per_class"]["1"]["support"]
    assert model["correct"] <= known and model["accuracy"] > 0.3
    assert "base.onnx has no label for 5, 6: those samples count as wrong" in printed
    assert "has no label for 5, 6" in open(os.path.join(out, "report.md")).read()


def test_eval_on_a_labelled_sensor_csv_cuts_windows_within_each_class(tmp_path):
    model = _sensor_model(str(tmp_path / "s.onnx"))   # 10 samples x (x, y), labels a, b
    rng = np.random.default_rng(0)
    rows = ["t,x,y,activity"]
    names = ["a"] * 25 + ["b"] * 30    # 2 whole windows of a (5 left over), 3 of b
    for t, name in enumerate(names):
        rows.append(f"{t},{rng.normal():.4f},{rng.normal():.4f},{name}")
    stream = tmp_path / "stream.csv"
    stream.write_text("\n".join(rows) + "\n")
    out = str(tmp_path / "report")
    assert main(["eval", model, "--data", str(stream), "--report", out]) == 0
    lines = [json.loads(line) for line in open(os.path.join(out, "predictions.jsonl"))]
    assert [(line["sample"], line["truth"]) for line in lines] == [
        ("stream.csv@0", "a"), ("stream.csv@10", "a"), ("stream.csv@25", "b"),
        ("stream.csv@35", "b"), ("stream.csv@45", "b")]


def _one_line_error(capsys, argv):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    return err


def test_eval_bad_input_is_one_line_and_writes_nothing(scene, tmp_path, capsys):
    out = tmp_path / "report"
    base, test = scene["base"], scene["test"]
    assert "give the folder of training samples" in _one_line_error(
        capsys, ["eval", base, "--data", test, "--baseline", "knn"])
    assert "give --report" in _one_line_error(capsys, ["eval", base, "--data", test, "--plot"])
    assert "does not exist" in _one_line_error(
        capsys, ["eval", base, "--data", str(tmp_path / "nowhere"), "--report", str(out)])
    empty = tmp_path / "empty.onnx"
    empty.write_bytes(b"")
    assert "empty.onnx" in _one_line_error(capsys, ["eval", str(empty), "--data", test])
    sensor = _sensor_model(str(tmp_path / "s.onnx"))
    assert "separate runs" in _one_line_error(capsys, ["eval", base, sensor, "--data", test])
    stream = tmp_path / "nolabel.csv"
    stream.write_text("t,x,y\n" + "".join(f"{t},1,2\n" for t in range(20)))
    assert "--label-column" in _one_line_error(capsys, ["eval", sensor, "--data", str(stream)])
    assert not out.exists()
