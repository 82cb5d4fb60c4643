"""`edgeinfer bench`: percentiles right on known samples, the JSON report's
shape, every backend that can run a model, real thread counts, duration and
stream modes, --compare, one-line errors."""
import json
import os
import time

import cv2
import numpy as np
import pytest

from edgeinfer.cli import main
from edgeinfer.commands.bench import format_profile, noise_warnings
from edgeinfer.commands.benchmarking import NOISY_SPREAD, latency_summary, with_ratios
from tools import sample_clip, tiny_models


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


@pytest.fixture(scope="module")
def erf_model(tmp_path_factory):
    """The tiny classifier with Erf in place of Relu: onnxruntime runs it, the
    native backend has no Erf."""
    proto = tiny_models.random_classifier(["a", "b"], size=(32, 32))
    for node in proto.graph.node:
        if node.op_type == "Relu":
            node.op_type = "Erf"
    return tiny_models.save(proto, tmp_path_factory.mktemp("bench") / "erf.onnx")


@pytest.fixture(scope="module")
def sensor_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("bench") / "sensor.onnx"
    return tiny_models.save(tiny_models.sensor_channel_means(), path)


@pytest.fixture(scope="module")
def report_path(model, tmp_path_factory):
    """One `bench --backend all --json` report of the tiny model."""
    out = tmp_path_factory.mktemp("bench") / "all.json"
    assert main(["bench", model, "--backend", "all", "--runs", "6", "--warmup", "1",
                 "--json", str(out), "-q"]) == 0
    return out


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
        assert row["streams"] == 1 and row["threads_default"] is False
        for part in ("preprocess_ms", "inference_ms", "total_ms"):
            stats = row[part]
            assert stats["min"] <= stats["p50"] <= stats["p90"] <= stats["p99"] <= stats["max"]
        assert row["total_ms"]["p50"] <= row["preprocess_ms"]["max"] + row["inference_ms"]["max"]
        assert row["peak_rss_mb"] > 0 and row["throughput_per_s"] > 0
        assert row["noisy"] == (row["spread_p90_p50"] > NOISY_SPREAD)
    assert min(row["ratio_to_fastest"] for row in report["rows"]) == 1.0


def test_backend_all_measures_each_backend_with_its_real_thread_count(report_path):
    from edgeinfer.commands.benchmarking import backend_threads, physical_cores

    rows = json.loads(report_path.read_text())["rows"]
    assert [row["backend"] for row in rows] == ["onnxruntime", "native"]
    asked = {row["backend"]: row["threads_asked"] for row in rows}
    assert asked == {"onnxruntime": physical_cores(), "native": backend_threads("native", None)}
    assert all(isinstance(row["threads"], int) and row["threads"] >= 1 and row["threads_default"]
               for row in rows)
    # the tiny model has too little work to share: native runs it on one thread, as it says
    assert {row["backend"]: row["threads"] for row in rows} == {
        "onnxruntime": physical_cores(), "native": 1}


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads in /proc")
def test_onnxruntime_default_threads_are_as_many_as_the_physical_cores(model):
    """What bench reports for onnxruntime's default is what the session starts:
    its intra-op pool with the default makes as many threads as with the
    physical core count given explicitly."""
    import onnxruntime as ort

    from edgeinfer.commands.benchmarking import physical_cores

    def settled_count():
        # a thread an earlier test left (a sink's, a server's) may still be ending:
        # count once two reads 50 ms apart agree
        count = len(os.listdir("/proc/self/task"))
        for _ in range(100):
            time.sleep(0.05)
            again = len(os.listdir("/proc/self/task"))
            if again == count:
                return count
            count = again
        return count

    def threads_started(intra_op):
        options = ort.SessionOptions()
        options.intra_op_num_threads = intra_op
        before = settled_count()
        session = ort.InferenceSession(model, sess_options=options,
                                       providers=["CPUExecutionProvider"])
        started = settled_count() - before
        del session
        return started

    assert threads_started(0) == threads_started(physical_cores())


def test_backend_all_keeps_onnxruntime_rows_when_native_cannot_run_the_model(erf_model, tmp_path,
                                                                             capsys):
    out = tmp_path / "erf.json"
    assert main(["bench", erf_model, "--backend", "all", "--runs", "3", "--warmup", "0",
                 "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    report = json.loads(out.read_text())
    assert [row["backend"] for row in report["rows"]] == ["onnxruntime"]
    assert "Erf" in report["not_measured"]["native"]
    assert "native: not measured, it cannot run this model (" in printed
    assert "onnxruntime " in printed.split("-----")[-1]  # its row in the table


def test_a_backend_that_cannot_run_the_model_is_one_line(erf_model, capsys):
    assert main(["bench", erf_model, "--backend", "native"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("edgeinfer bench: backend native cannot run ") and "Erf" in err
    assert len(err.splitlines()) == 1


def test_time_mode_measures_for_the_given_seconds(model, tmp_path, capsys):
    out = tmp_path / "timed.json"
    assert main(["bench", "-m", model, "-t", "0.6", "--warmup", "1", "--json", str(out),
                 "-q"]) == 0
    row = json.loads(out.read_text())["rows"][0]
    assert 0.6 <= row["seconds"] < 2.6 and row["runs"] > 3  # the last run ends past 0.6 s
    assert row["throughput_per_s"] == pytest.approx(row["runs"] / row["seconds"])
    assert "for 0.6 s after 1 warm-up runs" in capsys.readouterr().out


def test_streams_count_the_frames_of_every_stream(model, tmp_path):
    out = tmp_path / "streams.json"
    assert main(["bench", model, "--streams", "2", "--runs", "5", "--warmup", "1", "--batch",
                 "2", "--threads", "1", "--json", str(out), "-q"]) == 0
    row = json.loads(out.read_text())["rows"][0]
    assert row["streams"] == 2 and row["runs"] == 10 and row["threads"] == 1
    assert row["throughput_per_s"] == pytest.approx(2 * 10 / row["seconds"])


def test_image_folder_frames_are_fed_in_turn_and_json_goes_to_stdout(model, tmp_path, capsys):
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("chelsea", "coffee"):
        cv2.imwrite(str(folder / f"{name}.jpg"), sample_clip.photo(name))
    assert main(["bench", model, "--image", str(folder), "--runs", "3", "--warmup", "0",
                 "--json", "-", "-q"]) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)  # nothing but the JSON on standard output
    assert report["rows"][0]["frames"] == 2
    assert "(2 images in turn)" in captured.err


def test_compare_passes_within_the_threshold_and_fails_past_it(report_path, tmp_path, capsys):
    report = json.loads(report_path.read_text())
    slower = json.loads(report_path.read_text())
    onnxruntime_row = slower["rows"][0]
    for key in ("p50", "mean"):
        onnxruntime_row["total_ms"][key] *= 1.25
    onnxruntime_row["throughput_per_s"] /= 1.25
    b = tmp_path / "slower.json"
    b.write_text(json.dumps(slower))

    assert main(["bench", "--compare", str(report_path), str(b), "--fail-above", "30%"]) == 0
    out = capsys.readouterr().out
    first = out.splitlines()[5]  # A, B, the legend, the head and its rule, then the rows
    assert first.startswith("onnxruntime") and "1.25x" in first and "0.80x" in first
    assert f"{report['rows'][1]['total_ms']['p50']:.2f}" in out.splitlines()[6]
    assert "no row slower than" in out

    assert main(["bench", "--compare", str(report_path), str(b), "--fail-above", "10%"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("edgeinfer bench: 1 of 2 rows slower than ")
    assert "onnxruntime" in err[0] and "1.25x" in err[0] and "more than 10%" in err[0]
    assert main(["bench", "--compare", str(report_path), str(b)]) == 0  # no threshold: a table


def test_compare_says_when_the_runs_of_a_row_used_different_thread_counts(report_path, tmp_path,
                                                                          capsys):
    """Rows pair by the threads asked; a native run of a model too small to
    share uses fewer. When A and B really used different counts, it was not
    said, and the ratio looked like the code's alone."""
    report = json.loads(report_path.read_text())
    for row in report["rows"]:
        row["threads_asked"] = 2
        row["threads"] = 2
    a = tmp_path / "a.json"
    a.write_text(json.dumps(report))
    report["rows"][0]["threads"] = 1
    b = tmp_path / "b.json"
    b.write_text(json.dumps(report))
    assert main(["bench", "--compare", str(a), str(b)]) == 0
    lines = capsys.readouterr().out.splitlines()
    said = [line for line in lines if "ran on" in line]
    backend = report["rows"][0]["backend"]
    assert said == [f"{backend}, 2 threads, batch 1 (as asked): A ran on 2, B on 1 "
                    "(native shares a model's threads by its work)"]


def test_profile_table_stays_aligned_with_long_operator_names():
    profile = [{"op": "Conv", "calls": 10, "ms": 1.5},
               {"op": "QLinearConv+Relu (fused, depthwise)", "calls": 10, "ms": 12.25}]
    lines = format_profile(profile).splitlines()
    assert len({len(line) for line in lines}) == 1
    assert len({line.index(" ms") if " ms" in line else line.rindex("%") for line in lines}) == 2


def test_a_noisy_row_is_named_in_a_warning():
    steady = {"backend": "onnxruntime", "threads": 2, "batch": 1, "streams": 1,
              "spread_p90_p50": 1.1, "noisy": False}
    noisy = dict(steady, backend="native", spread_p90_p50=2.0, noisy=True)
    warnings = noise_warnings([steady, noisy])
    assert len(warnings) == 1 and "native, 2 threads" in warnings[0] and "2.00x" in warnings[0]


@pytest.mark.parametrize("argv,words", [
    (["MISSING.onnx"], ["does not exist"]),
    (["{model}", "--backend", "tvm"], ["unknown backend 'tvm'"]),
    (["{model}", "--warmup", "-1"], ["--warmup must be at least 0"]),
    (["{model}", "--image", "nowhere/*.jpg"], ["no files match"]),
    (["{model}", "--fail-above", "10%"], ["--fail-above goes with --compare"]),
    (["--compare", "MISSING.onnx", "{model}"], ["cannot read"]),
    (["--compare", "{model}", "{model}"], ["is not JSON"]),
    (["{model}", "--compare", "{model}", "{model}"], ["give it no model"]),
    (["{sensor_model}", "--image", "{model}"], ["takes sensor windows, not images"]),
    ([], ["--model is required"]),
])
def test_errors_are_one_line(model, sensor_model, tmp_path, capsys, argv, words):
    argv = [a.format(model=model, sensor_model=sensor_model) if "{" in a else (str(tmp_path / a) if a.endswith(".onnx")
                                                     else a) for a in argv]
    assert main(["bench", *argv]) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("edgeinfer bench: ") and "Traceback" not in err
    for word in words:
        assert word in lines[0]


@pytest.mark.parametrize("argv,words", [
    (["--threads", "zero"], ["--threads", "positive number or 'all'"]),
    (["--runs", "0"], ["--runs", "positive number"]),
    (["--runs", "5", "-t", "2"], ["not allowed with argument"]),
    (["--streams", "0"], ["--streams", "positive number"]),
    (["--compare", "a.json", "b.json", "--fail-above", "ten"], ["percentage such as 10%"]),
])
def test_argument_errors_are_argparse_lines(model, capsys, argv, words):
    with pytest.raises(SystemExit) as exit_:
        main(["bench", model, *argv])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    for word in words:
        assert word in last


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


def test_json_into_an_unwritable_place_is_one_line_not_an_unexpected_error(model, tmp_path,
                                                                         capsys):
    (tmp_path / "a-file").write_text("")   # a folder that cannot be made: a file is there
    target = tmp_path / "a-file" / "bench.json"
    assert main(["bench", model, "--runs", "3", "--warmup", "1", "-q", "--json",
                 str(target)]) == 2
    err = capsys.readouterr().err
    assert "unexpected" not in err and "edgeinfer bench: cannot write --json" in err, err


@pytest.mark.parametrize("damage", ["no_p50", "zero_p50", "text_mean", "no_backend"])
def test_compare_of_a_report_with_a_damaged_row_is_one_line(report_path, tmp_path, capsys,
                                                            damage):
    report = json.loads(report_path.read_text())
    row = report["rows"][0]
    if damage == "no_p50":
        del row["total_ms"]["p50"]
    elif damage == "zero_p50":
        row["total_ms"]["p50"] = 0
    elif damage == "text_mean":
        row["total_ms"]["mean"] = "fast"
    else:
        del row["backend"]
    b = tmp_path / "damaged.json"
    b.write_text(json.dumps(report))
    assert main(["bench", "--compare", str(report_path), str(b)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "row 1 is not a bench measurement" in err[0], err


@pytest.mark.parametrize("threshold", ["nan", "inf", "-5%"])
def test_fail_above_takes_only_a_finite_percentage(report_path, capsys, threshold):
    with pytest.raises(SystemExit) as stop:
        main(["bench", "--compare", str(report_path), str(report_path), "--fail-above",
              threshold])
    assert stop.value.code == 2
    assert "--fail-above" in capsys.readouterr().err


def test_native_on_fewer_threads_than_asked_says_why(model, capsys):
    """--threads 2 on a model too small to share: the row says 1 thread and a
    line says why, instead of a two-thread row that ran on one."""
    assert main(["bench", model, "--backend", "native", "--threads", "2", "--runs", "4",
                 "--warmup", "1", "-q"]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("native "))
    assert row.split()[1] == "1"
    assert "too little work to share between threads" in out
