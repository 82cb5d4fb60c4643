"""The benchmark gate and ratio table read pytest-benchmark JSON the way it is
written, and judge ratios, not seconds."""
import json
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "tools"))
import bench_check  # noqa: E402
import bench_table  # noqa: E402
from bench_results import load_groups, role_of  # noqa: E402


def write_run(path, suites, extra=None):
    """suites: {(function name, group): min seconds}; extra: {(function name,
    group): extra_info}"""
    extra = extra or {}
    run = {"machine_info": {"cpu": {"brand_raw": "Test CPU", "count": 2}, "python_version": "3"},
           "benchmarks": [{"name": f"{name}[case]", "group": group,
                           "stats": {"min": seconds, "median": seconds * 1.1, "mean": seconds},
                           "extra_info": extra.get((name, group), {})}
                          for (name, group), seconds in suites.items()]}
    path.write_text(json.dumps(run))
    return str(path)


def test_roles_from_suite_names():
    assert role_of("edgeinfer") == "ours"
    assert role_of("filter2d_edgeinfer") == "ours"
    assert role_of("numpy_reference") == "reference"
    assert role_of("filter2d_numpy_reference") == "reference"
    assert role_of("opencv_pipeline") == "anchor"
    assert role_of("onnxruntime") == "anchor"


@pytest.mark.parametrize("reference_seconds,floor,passes", [(0.030, 20, True), (0.019, 20, False)])
def test_gate_compares_the_same_run_ratio_with_the_floor(tmp_path, reference_seconds, floor,
                                                         passes, capsys):
    run = write_run(tmp_path / "run.json", {
        ("bench_edgeinfer", "preprocess 640x480"): 0.001,
        ("bench_numpy_reference", "preprocess 640x480"): reference_seconds,
        ("bench_opencv_pipeline", "preprocess 640x480"): 0.003,
    })
    floors = tmp_path / "floors.json"
    floors.write_text(json.dumps({"preprocess": floor}))
    assert bench_check.main([run, "--floors", str(floors)]) == (0 if passes else 1)
    assert f"{reference_seconds / 0.001:.1f}x numpy reference" in capsys.readouterr().out


def test_gate_fails_when_a_floored_kernel_was_not_measured(tmp_path):
    run = write_run(tmp_path / "run.json", {("bench_edgeinfer", "preprocess a"): 1.0,
                                            ("bench_numpy_reference", "preprocess a"): 50.0})
    floors = tmp_path / "floors.json"
    floors.write_text(json.dumps({"preprocess": 20, "conv2d": 10}))
    assert bench_check.main([run, "--floors", str(floors)]) == 1


INTERLEAVED = "efficientnet-lite0, 1 thread, interleaved"


@pytest.mark.parametrize("native_ms,passes", [(13.0, True), (20.0, False)])
def test_gate_judges_native_against_onnxruntime_from_the_interleaved_run(tmp_path, native_ms,
                                                                        passes, capsys):
    run = write_run(tmp_path / "run.json", {
        ("bench_interleaved", INTERLEAVED): native_ms / 1e3,
    }, extra={("bench_interleaved", INTERLEAVED): {
        "native_ms": native_ms, "onnxruntime_ms": 12.0,
        "native_vs_onnxruntime": native_ms / 12.0}})
    floors = tmp_path / "floors.json"
    floors.write_text(json.dumps({"native_speed_vs_onnxruntime": {INTERLEAVED: 0.75}}))
    assert bench_check.main([run, "--floors", str(floors)]) == (0 if passes else 1)
    assert f"{12.0 / native_ms:.2f}x onnxruntime's speed" in capsys.readouterr().out


def test_gate_fails_when_a_floored_model_was_not_measured(tmp_path, capsys):
    other = "small-cnn-96, 1 thread, interleaved"
    run = write_run(tmp_path / "run.json", {("bench_interleaved", other): 0.001}, extra={
        ("bench_interleaved", other): {"native_ms": 1.0, "onnxruntime_ms": 1.0,
                                       "native_vs_onnxruntime": 1.0}})
    floors = tmp_path / "floors.json"
    floors.write_text(json.dumps({"native_speed_vs_onnxruntime": {INTERLEAVED: 0.75,
                                                                   other: 0.5}}))
    assert bench_check.main([run, "--floors", str(floors)]) == 1
    assert f"FAIL {INTERLEAVED}: no interleaved" in capsys.readouterr().out


def test_kernels_only_run_skips_the_whole_model_floors(tmp_path, capsys):
    run = write_run(tmp_path / "run.json", {("bench_edgeinfer", "preprocess a"): 1.0,
                                            ("bench_numpy_reference", "preprocess a"): 50.0})
    floors = tmp_path / "floors.json"
    floors.write_text(json.dumps({"preprocess": 20,
                                  "native_speed_vs_onnxruntime": {INTERLEAVED: 0.75}}))
    assert bench_check.main([run, "--floors", str(floors)]) == 0
    assert "skip 1 whole-model floor(s)" in capsys.readouterr().out


def test_table_shows_each_suite_as_a_multiple_of_ours(tmp_path):
    run = write_run(tmp_path / "run.json", {("bench_edgeinfer", "conv2d 1x1"): 0.002,
                                            ("bench_onnxruntime", "conv2d 1x1"): 0.001,
                                            ("bench_numpy_reference", "conv2d 1x1"): 0.05})
    groups, machine = load_groups(run)
    text = bench_table.table(groups, machine)
    assert "| conv2d 1x1 | 2,000.0 µs | numpy_reference: 25.00x, onnxruntime: 0.50x |" in text
    assert "Test CPU" in text


def test_table_of_an_edgeinfer_bench_report_does_not_crash(tmp_path, capsys):
    """bench_table.py once read only pytest-benchmark runs and raised KeyError
    ('benchmarks') on the report `edgeinfer bench --json` writes."""
    from edgeinfer.cli import main as edgeinfer
    from tools import tiny_models

    model = tiny_models.save(tiny_models.random_classifier(["a", "b"], size=(32, 32)),
                             tmp_path / "tiny.onnx")
    report = tmp_path / "bench.json"
    assert edgeinfer(["bench", model, "--runs", "3", "--warmup", "0", "--json", str(report),
                      "-q"]) == 0
    capsys.readouterr()
    assert bench_table.main([str(report)]) == 0
    text = capsys.readouterr().out
    row = json.loads(report.read_text())["rows"][0]
    assert f"| onnxruntime | {row['threads']} | 1 | 1 | {row['total_ms']['p50']:.2f} |" in text
    assert f"Model: {model}." in text


def test_table_names_a_file_it_cannot_read_in_one_line(tmp_path, capsys):
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"something": 1}))
    assert bench_table.main([str(other)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "neither a pytest-benchmark run" in err


def test_backends_take_turns_in_blocks_whose_first_run_is_not_counted():
    """backends_table's latencies: at one thread the backends alternate run by
    run; in blocks each block's first run (after the other runtime's spinning
    workers) is warm-up, and every backend gets exactly `runs` timings."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "benchmarks"))
    from backends_table import latencies

    order = []
    runners = {name: (lambda x, name=name: order.append(name)) for name in ("a", "b")}
    times = latencies(runners, None, runs=4, block=1, warmup=1)
    assert order == ["a", "b"] + ["a", "b"] * 4 and [len(t) for t in times.values()] == [4, 4]
    order.clear()
    times = latencies(runners, None, runs=4, block=3, warmup=1)
    assert order[2:] == ["a"] * 4 + ["b"] * 4 + ["a"] * 4 + ["b"] * 4
    assert [len(t) for t in times.values()] == [4, 4]


def preprocess_run(path, reference_seconds):
    return write_run(path, {("bench_edgeinfer", "preprocess 640x480"): 0.001,
                            ("bench_numpy_reference", "preprocess 640x480"): reference_seconds})


@pytest.mark.parametrize("first,second,best_run", [(0.0194, 0.035, 2), (0.035, 0.0194, 1)])
def test_gate_judges_a_case_by_its_best_run_whichever_it_was(tmp_path, capsys, first, second,
                                                             best_run):
    """A busy minute once read 19.4x against a floor of 20x on a 35x case."""
    floors = tmp_path / "floors.json"
    floors.write_text(json.dumps({"preprocess": 20}))
    runs = [preprocess_run(tmp_path / "run.json", first),
            preprocess_run(tmp_path / "again.json", second)]
    assert bench_check.main(runs + ["--floors", str(floors)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ok   preprocess 640x480")
    assert f"35.0x numpy reference (floor 20x, best of 2 runs: run {best_run})" in out


def test_gate_fails_a_case_that_misses_its_floor_in_every_run(tmp_path, capsys):
    floors = tmp_path / "floors.json"
    floors.write_text(json.dumps({"preprocess": 20}))
    runs = [preprocess_run(tmp_path / f"run{i}.json", seconds)
            for i, seconds in enumerate((0.0194, 0.015))]
    assert bench_check.main(runs + ["--floors", str(floors)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("FAIL preprocess 640x480")
    assert "19.4x numpy reference (floor 20x, best of 2 runs: run 1)" in out


def test_gate_judges_a_case_measured_in_only_one_of_the_runs_by_that_run(tmp_path, capsys):
    floors = tmp_path / "floors.json"
    floors.write_text(json.dumps({"preprocess": 20}))
    first = write_run(tmp_path / "run.json", {
        ("bench_edgeinfer", "preprocess 640x480"): 0.001,
        ("bench_numpy_reference", "preprocess 640x480"): 0.035,
        ("bench_edgeinfer", "preprocess 1280x720"): 0.001,
        ("bench_numpy_reference", "preprocess 1280x720"): 0.015})
    again = preprocess_run(tmp_path / "again.json", 0.030)
    assert bench_check.main([first, again, "--floors", str(floors)]) == 1
    out = capsys.readouterr().out
    assert "FAIL preprocess 1280x720" in out and "15.0x numpy reference (floor 20x)" in out
    assert "35.0x numpy reference (floor 20x, best of 2 runs: run 1)" in out
