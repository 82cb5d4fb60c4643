"""The sensor flow on real recordings: tools/make_sensor_demo.py trains a 1-D
CNN on aeon's BasicMotions smartwatch data, converts it with edgeinfer, writes
the held-out recordings as a sample stream; `edgeinfer run --sensor` must
then name the activity of at least 90 % of the test windows, on every
installed backend."""
import contextlib
import csv
import io
import json
import shlex

import pytest

pytest.importorskip("torch")
pytest.importorskip("aeon")

from edgeinfer import backends  # noqa: E402
from edgeinfer.cli import main  # noqa: E402
from tools import make_sensor_demo  # noqa: E402


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("sensor")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        cnn, knn = make_sensor_demo.main(str(out))
    return out, cnn, knn, printed.getvalue()


def activities_by_time(stream):
    with open(stream) as f:
        return {round(float(row["t"]), 1): row["activity"] for row in csv.DictReader(f)}


@pytest.mark.slow
@pytest.mark.parametrize("backend", [name for name, (ok, _) in backends.availability().items()
                                     if ok])
def test_run_names_the_activity_of_held_out_recordings(demo, backend, capsys):
    out, cnn_accuracy, knn_accuracy, _ = demo
    stream = out / "test_stream.csv"
    results = out / f"{backend}.jsonl"
    assert main(["run", "--model", str(out / "basic_motions.onnx"), "--sensor", str(stream),
                 "--backend", backend, "--json", str(results), "--quiet"]) == 0
    capsys.readouterr()
    truth = activities_by_time(stream)
    records = [json.loads(line) for line in results.read_text().splitlines()]
    assert len(records) == 80  # 40 recordings of 100 samples, 50-sample windows, hop 50
    # each window lies inside one recording: its first and last samples agree
    assert all(truth[r["first_sample_time"]] == truth[r["last_sample_time"]] for r in records)
    accuracy = sum(r["label"] == truth[r["first_sample_time"]] for r in records) / len(records)
    assert accuracy >= 0.9
    assert accuracy == pytest.approx(cnn_accuracy, abs=1 / 80)  # the framework's own score
    assert knn_accuracy >= 0.5  # the baseline is reported, and far above chance (0.25)


def test_make_sensor_demo_ends_with_the_command_to_run_next(demo, capsys):
    """make_sensor_demo.py ended without saying what to do with what it wrote."""
    out, _, _, printed = demo
    last = printed.strip().splitlines()[-1]
    assert last.startswith("next: edgeinfer run ")
    command = shlex.split(last[len("next: "):])
    assert str(out / "basic_motions.onnx") in command and str(out / "test_stream.csv") in command
    assert main(command[1:] + ["--quiet", "--max-frames", "100"]) == 0
    assert "Traceback" not in capsys.readouterr().err
