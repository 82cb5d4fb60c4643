"""`edgeinfer run --sensor` end to end: windows from a CSV file and from stdin
through a pipe, labelled by a model whose answer is known (the channel with
the largest mean), window times in the JSON and CSV, malformed lines and
timestamp gaps reported, wrong pairings refused in one line."""
import csv
import json
import subprocess
import sys

import numpy as np
import pytest

from edgeinfer.cli import main
from tools import tiny_models

CHANNELS = ("ax", "ay", "az")


def stream_csv(path, dominant, window=8, rate=10.0, extra_lines=()):
    """One window per entry of `dominant`: that channel high, the others low."""
    rng = np.random.default_rng(3)
    lines, t = ["t,az,ay,ax,note"], 0  # columns in another order than the model's
    for channel in dominant:
        for _ in range(window):
            values = dict(zip(CHANNELS, rng.uniform(0, 1, 3)))
            values[channel] += 5.0
            lines.append(f"{t / rate:.2f},{values['az']:.4f},{values['ay']:.4f},"
                         f"{values['ax']:.4f},x")
            t += 1
    lines[3:3] = list(extra_lines)
    path.write_text("\n".join(lines) + "\n")
    return str(path)


@pytest.fixture
def model(tmp_path):
    return tiny_models.save(tiny_models.sensor_channel_means(CHANNELS, window=8, hop=8,
                                                            sample_rate=10.0),
                            tmp_path / "sensor.onnx")


def test_csv_stream_windows_are_labelled_with_their_times(model, tmp_path, capsys):
    dominant = ["ay", "ax", "az", "ay"]
    stream = stream_csv(tmp_path / "s.csv", dominant, extra_lines=["0.25,1,2", "0.26,1,oops,3,x"])
    out_json, out_csv = tmp_path / "r.jsonl", tmp_path / "r.csv"
    code = main(["run", "--model", model, "--sensor", stream, "--json", str(out_json),
                 "--csv", str(out_csv)])
    _, err = capsys.readouterr()
    assert code == 0
    records = [json.loads(line) for line in out_json.read_text().splitlines()]
    assert [r["label"] for r in records] == dominant
    assert [(r["first_sample_time"], r["last_sample_time"]) for r in records] == \
        [(pytest.approx(0.8 * i), pytest.approx(0.8 * i + 0.7)) for i in range(4)]
    rows = list(csv.DictReader(out_csv.open()))
    assert [row["label"] for row in rows] == dominant
    assert float(rows[1]["first_sample_time"]) == pytest.approx(0.8)
    assert "2 skipped" in err and "malformed" in err


def test_timestamp_gap_is_reported_and_no_window_spans_it(tmp_path, capsys, model):
    path = tmp_path / "gap.csv"
    rows = ["t,ax,ay,az"] + [f"{i / 10:.1f},5,0,0" for i in range(12)] + \
        [f"{10 + i / 10:.1f},0,5,0" for i in range(8)]
    path.write_text("\n".join(rows) + "\n")
    out_json = tmp_path / "r.jsonl"
    assert main(["run", "--model", model, "--sensor", str(path), "--json", str(out_json)]) == 0
    _, err = capsys.readouterr()
    records = [json.loads(line) for line in out_json.read_text().splitlines()]
    assert [r["label"] for r in records] == ["ax", "ay"]
    assert records[1]["first_sample_time"] == pytest.approx(10.0)
    assert "timestamps jump" in err


def test_stdin_pipe(model, tmp_path):
    stream = stream_csv(tmp_path / "s.csv", ["az", "ax"])
    with open(stream) as f:
        run = subprocess.run([sys.executable, "-m", "edgeinfer", "run", "--model", model,
                              "--sensor", "-", "--json", "-"], stdin=f, capture_output=True,
                             text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert [json.loads(line)["label"] for line in run.stdout.splitlines()] == ["az", "ax"]


def test_timestamps_going_backwards_are_reported_and_no_window_spans_them(tmp_path, capsys,
                                                                         model):
    path = tmp_path / "back.csv"
    rows = ["t,ax,ay,az"] + [f"{i / 10:.1f},5,0,0" for i in range(11)] + \
        [f"{0.3 + i / 10:.1f},0,5,0" for i in range(8)]
    path.write_text("\n".join(rows) + "\n")
    out_json = tmp_path / "r.jsonl"
    assert main(["run", "--model", model, "--sensor", str(path), "--json", str(out_json)]) == 0
    _, err = capsys.readouterr()
    records = [json.loads(line) for line in out_json.read_text().splitlines()]
    assert [(r["label"], r["first_sample_time"]) for r in records] == \
        [("ax", pytest.approx(0.0)), ("ay", pytest.approx(0.3))]
    assert "timestamps go back from 1 to 0.3 at line 13" in err


def run_stdin(model, data):
    """`edgeinfer run --sensor -` in a process of its own, `data` (bytes) piped in."""
    run = subprocess.run([sys.executable, "-m", "edgeinfer", "run", "--model", model,
                          "--sensor", "-", "--json", "-"], input=data, capture_output=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr.decode()
    return [json.loads(line) for line in run.stdout.splitlines()], run.stderr.decode()


def window_results(records):
    return [(r["label"], r["score"], r["first_sample_time"], r["last_sample_time"])
            for r in records]


def test_stdin_with_banner_bom_cr_endings_and_latin1_gives_every_clean_window(model, tmp_path):
    dominant = ["ay", "ax", "az", "ay", "az"]
    clean = stream_csv(tmp_path / "clean.csv", dominant)
    clean_records, _ = run_stdin(model, open(clean, "rb").read())
    assert [r["label"] for r in clean_records] == dominant
    lines = open(clean, encoding="utf-8").read().splitlines()
    lines[5] = lines[5][:-1] + "caf\xe9"          # the note column, in Latin-1
    messy = (b"\xef\xbb\xbf" + "MPU6050 ready\r".encode()
             + "\r".join(lines).encode("latin-1") + b"\r")
    messy_records, err = run_stdin(model, messy)
    assert window_results(messy_records) == window_results(clean_records)
    assert "MPU6050 ready" in err and "1 skipped" in err


def test_non_utf8_byte_on_stdin_is_counted_and_the_run_goes_on(model, tmp_path):
    dominant = ["az", "ax", "ay", "ax"]
    clean = stream_csv(tmp_path / "s.csv", dominant)
    lines = open(clean, "rb").read().splitlines(keepends=True)
    lines.insert(6, b"0.45,0.5,\xb0,0.5,x\n")
    records, err = run_stdin(model, b"".join(lines))
    assert [r["label"] for r in records] == dominant
    assert "1 skipped" in err and "not a number: '\\xb0'" in err


@pytest.mark.parametrize("argv,words", [
    (["--sensor", "MISSING.csv"], ["does not exist"]),
    (["--image", "x.jpg"], ["sensor windows, not images", "--sensor"]),
    (["--sensor", "s.csv", "--save-video", "o.mp4"], ["--save-video"]),
    (["--sensor", "udp:127.0.0.1:99999"], ["udp:127.0.0.1:99999", "from 1 to 65535"]),
])
def test_sensor_errors_are_one_line(model, tmp_path, capsys, argv, words):
    stream_csv(tmp_path / "s.csv", ["ax"])
    argv = [str(tmp_path / a) if a.endswith((".csv", ".jpg", ".mp4")) else a for a in argv]
    code = main(["run", "--model", model, *argv])
    _, err = capsys.readouterr()
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and "Traceback" not in err
    for word in words:
        assert word in lines[0]


def test_header_without_the_model_channels(model, tmp_path, capsys):
    path = tmp_path / "s.csv"
    path.write_text("t,gx,gy,gz\n0,1,2,3\n")
    code = main(["run", "--model", model, "--sensor", str(path)])
    _, err = capsys.readouterr()
    assert code == 2 and "missing: ax, ay, az" in err

