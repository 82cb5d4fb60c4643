"""Sensor windows: per-window latency (prepare + inference) of the BasicMotions
activity model, and windows per second through the whole `edgeinfer run
--sensor` pipeline over the held-out recordings, on every installed backend.
The 1-D convolution itself is in bench_conv2d.py (the H = 1 case)."""
import numpy as np
import pytest

from edgeinfer import backends, load
from edgeinfer.run.pipeline import Pipeline
from edgeinfer.run.classifier import Classifier
from edgeinfer.run.postprocess import Postprocessor
from edgeinfer.sensor.stream import open_sensor_windows

pytest.importorskip("torch")
pytest.importorskip("aeon")

BACKENDS = [name for name, (ok, _) in backends.availability().items() if ok]


def run_sensor_stream(model_path, stream_path, backend):
    """`edgeinfer run --sensor STREAM --quiet`, without the printing: the run's stats."""
    model = load(model_path, backend=backend, threads=1)
    source = open_sensor_windows(stream_path, model.info.sensor)
    return Pipeline(source, [Classifier(model, Postprocessor.for_model(model, top_k=3))]).run()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from tools import make_sensor_demo

    out = tmp_path_factory.mktemp("sensor")
    make_sensor_demo.main(str(out))
    return out


@pytest.mark.parametrize("backend", BACKENDS)
def bench_window_latency(benchmark, demo, backend):
    model = load(str(demo / "basic_motions.onnx"), backend=backend, threads=1)
    window = np.random.default_rng(0).normal(size=(model.info.sensor.window, 6)).astype(np.float32)
    tensor = model.new_input()
    benchmark.group = "sensor window latency"

    def classify():
        model.prepare(window, out=tensor)
        return model.run(tensor)
    benchmark(classify)


@pytest.mark.parametrize("backend", BACKENDS)
def bench_stream_windows_per_second(benchmark, demo, backend):
    benchmark.group = "sensor stream, 80 windows"
    stats = benchmark.pedantic(run_sensor_stream, args=(str(demo / "basic_motions.onnx"),
                                                        str(demo / "test_stream.csv"), backend),
                               rounds=3, iterations=1)
    assert stats.classified == 80
    if benchmark.stats is not None:  # None in a --benchmark-disable smoke run
        benchmark.extra_info["windows_per_s"] = stats.classified / benchmark.stats.stats.min
