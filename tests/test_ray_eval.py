"""The Ray Data path on a real local Ray instance with 2 workers: eval's
predictions.jsonl is byte-identical to the local run's, and run --ray writes
the local run's JSON lines — the same bytes once the timing fields
(captured_at, result_at, latency_ms, measured where each frame ran) are
left out — skipping the same unreadable files."""
import json
import os

import numpy as np
import pytest

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'edgeinfer[ray]')")
pytest.importorskip("pyarrow", reason="Ray Data needs pyarrow (pip install 'edgeinfer[ray]')")

from edgeinfer.cli import main  # noqa: E402

from learn_data import digits, few_shot_split, write_base_model, write_class_folders  # noqa: E402

TIMING_FIELDS = ("captured_at", "result_at", "latency_ms")


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    root = tmp_path_factory.mktemp("ray")
    base = write_base_model(str(root / "base.onnx"))
    images, labels = digits()
    train, test = few_shot_split(labels, (0, 3, 7), shots=5)
    train_dir = write_class_folders(str(root / "train"), images[train], labels[train])
    test_dir = write_class_folders(str(root / "test"), images[test[::3]], labels[test[::3]])
    personal = str(root / "personal.onnx")
    assert main(["personalize", base, "--data", train_dir, "-o", personal]) == 0
    return dict(root=root, base=base, personal=personal, train=train_dir, test=test_dir)


def test_eval_on_ray_writes_the_local_predictions_byte_for_byte(local_ray, scene, tmp_path):
    argv = ["eval", scene["base"], scene["personal"], "--data", scene["test"],
            "--baseline", "knn", "--train", scene["train"]]
    assert main(argv + ["--report", str(tmp_path / "local")]) == 0
    assert main(argv + ["--report", str(tmp_path / "ray"), "--ray", "auto"]) == 0
    local = (tmp_path / "local" / "predictions.jsonl").read_bytes()
    assert local == (tmp_path / "ray" / "predictions.jsonl").read_bytes()
    assert local.count(b"\n") > 50
    reports = [json.load(open(tmp_path / side / "report.json")) for side in ("local", "ray")]
    for a, b in zip(reports[0]["models"], reports[1]["models"]):
        a.pop("latency_ms"), b.pop("latency_ms")
        assert a == b


def _without_timings(path):
    lines = []
    for line in open(path, encoding="utf-8"):
        record = json.loads(line)
        assert all(field in record for field in TIMING_FIELDS)
        # a local file run also says how long each image queued; Ray's actors read their own
        lines.append(json.dumps({k: v for k, v in record.items()
                                 if k not in TIMING_FIELDS + ("queued_ms",)},
                                ensure_ascii=False))
    return lines


def test_run_on_ray_writes_the_local_json_lines_and_skips_the_same_files(local_ray, scene,
                                                                        tmp_path):
    folder = os.path.join(scene["test"], "3")
    broken = os.path.join(folder, "0000-broken.png")
    open(broken, "wb").close()      # an empty file: both runs skip it with a warning
    try:
        argv = ["run", "--model", scene["personal"], "--image", folder, "--quiet", "--top-k", "2"]
        assert main(argv + ["--json", str(tmp_path / "local.jsonl")]) == 0
        assert main(argv + ["--json", str(tmp_path / "ray.jsonl"), "--ray", "auto"]) == 0
    finally:
        os.remove(broken)
    local, on_ray = (_without_timings(tmp_path / name) for name in ("local.jsonl", "ray.jsonl"))
    assert local == on_ray
    assert len(local) == len(os.listdir(folder))
    assert [json.loads(line)["frame"] for line in on_ray] == list(range(len(local)))
    assert np.mean([json.loads(line)["label"] == "3" for line in on_ray]) > 0.8


def test_run_on_ray_with_mqtt_publishes_every_result_and_says_so_in_the_summary(
        local_ray, scene, broker, tmp_path, capsys):
    from mqtt_broker import Subscriber

    folder = os.path.join(scene["test"], "3")
    listener = Subscriber(broker, "edgeinfer/ray")
    try:
        assert main(["run", "--model", scene["personal"], "--image", folder, "--quiet",
                     "--json", str(tmp_path / "ray.jsonl"), "--ray", "auto",
                     "--mqtt", f"{broker.url}/edgeinfer/ray"]) == 0
        count = len(os.listdir(folder))
        listener.wait_for(lambda s: len(s.records) == count, 10, f"{count} results")
        written = [json.loads(line) for line in open(tmp_path / "ray.jsonl")]
        assert [r["frame"] for r in listener.records] == [r["frame"] for r in written]
        assert [r["label"] for r in listener.records] == [r["label"] for r in written]
    finally:
        listener.close()
    summary = capsys.readouterr().err.strip().splitlines()
    assert summary[-1].strip().startswith(f"mqtt: {count} of {count} results delivered to")


def test_eval_on_ray_refuses_an_unreadable_sample_in_one_line(local_ray, scene, tmp_path,
                                                              capsys):
    images, labels = digits()
    data = write_class_folders(str(tmp_path / "test"), images[:4], labels[:4] % 2)
    broken = os.path.join(data, "1", "9999.png")
    open(broken, "wb").close()
    assert main(["eval", scene["base"], "--data", data, "--ray", "auto",
                 "--report", str(tmp_path / "report")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == f"edgeinfer eval: sample {broken} is empty: delete it or collect it again"
    assert "Traceback" not in "\n".join(err)
    assert not (tmp_path / "report").exists()
