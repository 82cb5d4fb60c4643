"""Sensor models through the converter: a Keras model taking (window,
channels) and a PyTorch one taking (channels, window) both come out with
their window, hop, channel names and statistics recorded, checked against
the input shape, and run on a sensor stream."""
import json

import numpy as np
import pytest

from edgeinfer.cli import main
from framework_models import read_metadata, run_onnx

CHANNELS = "ax,ay,az,gx"


def stream(path, rows=24):
    rng = np.random.default_rng(0)
    lines = ["t,gx,az,ay,ax"] + [f"{i * 0.02:.2f}," + ",".join(f"{v:.3f}" for v in rng.normal(size=4))
                                 for i in range(rows)]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def keras_nwc_model(path):
    import keras

    keras.utils.set_random_seed(2)
    model = keras.Sequential([keras.Input((12, 4)), keras.layers.Conv1D(6, 3, activation="relu"),
                              keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(3)])
    model.save(path)
    return model


def torch_ncw_model(path):
    import torch

    torch.manual_seed(2)
    module = torch.nn.Sequential(torch.nn.Conv1d(4, 6, 3), torch.nn.ReLU(),
                                 torch.nn.AdaptiveAvgPool1d(1), torch.nn.Flatten(),
                                 torch.nn.Linear(6, 3)).eval()
    torch.jit.save(torch.jit.trace(module, torch.zeros(1, 4, 12)), path)
    return module


@pytest.mark.parametrize("framework,layout", [("keras", "nwc"), ("torch", "ncw")])
def test_sensor_model_converts_and_runs(framework, layout, tmp_path, capsys):
    if framework == "keras":
        pytest.importorskip("keras")
        source = tmp_path / "m.keras"
        keras_nwc_model(str(source))
        extra = []
    else:
        pytest.importorskip("torch")
        source = tmp_path / "m.pt"
        torch_ncw_model(str(source))
        extra = ["--input-shape", "1,4,12"]
    out = tmp_path / "m.onnx"
    assert main(["convert", str(source), "-o", str(out), *extra, "--sensor-window", "12",
                 "--hop", "6", "--channels", CHANNELS, "--sample-rate", "50",
                 "--preprocess", "mean=0,1,2,3", "--labels", "rest,walk,run"]) == 0
    info = read_metadata(str(out))
    assert info.task == "sensor-classification"
    sensor = info.sensor
    assert (sensor.window, sensor.hop, sensor.layout, sensor.sample_rate) == (12, 6, layout, 50.0)
    assert list(sensor.channels) == CHANNELS.split(",") and list(sensor.mean) == [0, 1, 2, 3]
    assert info.verification["passed"]

    results = tmp_path / "r.jsonl"
    assert main(["run", "--model", str(out), "--sensor", stream(tmp_path / "s.csv"),
                 "--json", str(results), "--quiet"]) == 0
    records = [json.loads(line) for line in results.read_text().splitlines()]
    assert [r["first_sample_time"] for r in records] == pytest.approx([0.0, 0.12, 0.24])
    # the runtime fed the model exactly the window the stream holds, normalised
    rows = np.loadtxt(tmp_path / "s.csv", delimiter=",", skiprows=1)
    by_name = dict(zip(["t", "gx", "az", "ay", "ax"], rows.T))
    window = np.stack([by_name[c] for c in CHANNELS.split(",")], axis=1)[6:18]
    window = (window - np.array([0, 1, 2, 3])).astype(np.float32)
    x = window[None] if layout == "nwc" else window.T[None]
    logits = run_onnx(str(out), np.ascontiguousarray(x))[0]
    probabilities = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    assert records[1]["label"] == ["rest", "walk", "run"][int(np.argmax(logits))]
    assert records[1]["score"] == pytest.approx(float(probabilities.max()), abs=1e-5)


def test_window_that_contradicts_the_input_shape(tmp_path, capsys):
    pytest.importorskip("torch")
    source = tmp_path / "m.pt"
    torch_ncw_model(str(source))
    out = tmp_path / "m.onnx"
    code = main(["convert", str(source), "-o", str(out), "--input-shape", "1,4,12",
                 "--sensor-window", "20", "--channels", CHANNELS])
    err = capsys.readouterr().err
    assert code == 2 and "declared window (20 samples of 4 channels" in err
    assert not out.exists()
