"""`edgeinfer bench`: percentiles right on known samples, the JSON report's
shape, one-line errors."""
import json

import numpy as np
import pytest

from edgeinfer.commands.benchmarking import latency_summary, with_ratios
from edgeinfer.cli import main
from tools import tiny_models


def test_percentiles_on_known_samples():
    seconds = np.arange(1, 102) / 1000.0  # 1 .. 101 ms: percentile q sits on sample 1 + q
    summary = latency_summary(seconds)
    assert summary["min"] == pytest.approx(1.0) and summary["max"] == pytest.approx(101.0)
    assert summary["p50"] == pytest.approx(51.0)
    assert summary["p90"] == pytest.approx(91.0)
    assert summary["p99"] == pytest.approx(100.0)
    assert summary["mean"] == pytest.approx(51.0)
    assert summary["std"] == pytest.approx(np.sqrt((101 ** 2 - 1) / 12))  # uniform 1..101
    with pytest.raises(ValueError):
        latency_summary([])


def test_ratio_to_the_fastest_row():
    rows = [{"total_ms": {"p50": 4.0}}, {"total_ms": {"p50": 2.0}}, {"total_ms": {"p50": 3.0}}]
    assert [r["ratio_to_fastest"] for r in with_ratios(rows)] == [2.0, 1.0, 1.5]


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("bench") / "tiny.onnx"
    return tiny_models.save(tiny_models.random_classifier(["a", "b"], size=(32, 32)), path)


def test_json_report(model, tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert main(["bench", model, "--runs", "4", "--warmup", "1", "--threads", "all",
                 "--batch", "2", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    report = json.loads(out.read_text())
    assert report["model"] == model
    assert {"cpu", "cores", "machine", "core", "versions"} <= set(report["machine"])
    assert report["machine"]["core"]["simd_active"] in printed
    assert f"onnxruntime {report['machine']['versions']['onnxruntime']}" in printed
    assert [row["threads"] for row in report["rows"]][0] == 1
    for row in report["rows"]:
        assert row["backend"] == "onnxruntime" and row["batch"] == 2 and row["runs"] == 4
        for part in ("preprocess_ms", "inference_ms", "total_ms"):
            stats = row[part]
            assert stats["min"] <= stats["p50"] <= stats["p90"] <= stats["p99"] <= stats["max"]
        assert row["total_ms"]["p50"] <= row["preprocess_ms"]["max"] + row["inference_ms"]["max"]
        assert row["peak_rss_mb"] > 0 and row["throughput_per_s"] > 0
    assert min(row["ratio_to_fastest"] for row in report["rows"]) == 1.0


@pytest.mark.parametrize("argv,words", [
    (["MISSING.onnx"], ["does not exist"]),
    (["{model}", "--backend", "tvm"], ["unknown backend 'tvm'"]),
    (["{model}", "--threads", "zero"], ["--threads takes a positive number"]),
    (["{model}", "--runs", "0"], ["--runs must be at least 1"]),
])
def test_errors_are_one_line(model, tmp_path, capsys, argv, words):
    argv = [a.format(model=model) if "{" in a else (str(tmp_path / a) if a.endswith(".onnx")
                                                     else a) for a in argv]
    assert main(["bench", *argv]) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("edgeinfer bench: ") and "Traceback" not in err
    for word in words:
        assert word in lines[0]


def test_profile_times_the_input_measure_gives_it(model):
    """The native backend keeps no copy of the inputs it ran: bench --profile
    hands the timed tensor to profile() itself."""
    from edgeinfer.backends.native import Backend
    from edgeinfer.commands.benchmarking import measure

    row = measure(model, "native", 1, runs=2, warmup=0, profile=True)
    assert row["profile"] and all(entry["calls"] > 0 for entry in row["profile"])
    backend = Backend(model)
    backend.run({backend.inputs[0].name: np.zeros((1, 3, 32, 32), np.float32)})
    assert not hasattr(backend, "_last_feed")
    with pytest.raises(TypeError):
        backend.profile()
