"""Whole classifiers per backend: the native executor, onnxruntime and OpenCV
DNN on the same ONNX file, batch 1, at one and at two threads: fp32
EfficientNet-Lite0, Keras MobileNetV2, a mini-Xception-shaped CNN and a small
MobileNet-like CNN. Models that need a framework to be made (torch for
EfficientNet-Lite0, TensorFlow for the Keras ones) are skipped without it;
the small CNN always runs, so the smoke run exercises the native backend.

bench_backend times each backend in its own block (pytest-benchmark's way).
bench_interleaved takes the three backends in turns, run by run, so they
share the machine's noise (at two threads each runs its turns in blocks of
five, each started once the process is idle and led by an uncounted run:
onnxruntime's worker threads keep spinning for about 50 ms after its run and
would slow the next), and records their medians and the ratios in
extra_info; that is what the gate (tools/bench_check.py,
"native_speed_vs_onnxruntime" in floors.json) judges."""
import os

import cv2
import numpy as np
import pytest

from backend_models import BACKENDS, MODELS, Unavailable, agreement_tolerance, input_for, \
    model_path, runner
from backends_table import latencies

THREADS = {"1 thread": 1, "2 threads": 2}


@pytest.fixture(scope="module")
def models(request):
    cache = os.path.join(str(request.config.cache.mkdir("edgeinfer-models")))
    paths = {}
    for name in MODELS:
        try:
            paths[name] = model_path(name, cache)
        except Unavailable as error:
            paths[name] = error
    return paths


def _path(models, model):
    path = models[model]
    if isinstance(path, Unavailable):
        pytest.skip(str(path))
    return path


@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("model", MODELS)
def bench_backend(benchmark, models, model, backend, threads):
    path = _path(models, model)
    cv_threads = cv2.getNumThreads()
    try:
        run = runner(backend, path, THREADS[threads])
    except (Unavailable, ImportError) as error:
        pytest.skip(str(error))
    _, x = input_for(path)
    benchmark.group = f"{model}, {threads}"
    try:
        logits = benchmark(run, x)
    finally:
        cv2.setNumThreads(cv_threads)
    if backend != "onnxruntime":
        try:
            expected = runner("onnxruntime", path, 1)(x)
        except ImportError:
            return
        difference = np.max(np.abs(np.asarray(logits).reshape(expected.shape) - expected))
        assert difference <= agreement_tolerance(model, path)


@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("model", MODELS)
def bench_interleaved(benchmark, models, model, threads):
    """Medians of the three backends taking turns run by run; the benchmark's
    own timing is of the native run alone."""
    path = _path(models, model)
    cv_threads = cv2.getNumThreads()
    runs_by_backend = {}
    try:
        for backend in BACKENDS:
            try:
                runs_by_backend[backend] = runner(backend, path, THREADS[threads])
            except (Unavailable, ImportError):
                pass
        if "onnxruntime" not in runs_by_backend:
            pytest.skip("onnxruntime is not installed")
        _, x = input_for(path)
        # a smoke run (--benchmark-disable) only checks that the turns run
        rounds = 3 if benchmark.disabled else 40
        interleave = THREADS[threads] == 1
        times = latencies(runs_by_backend, x, rounds, block=1 if interleave else 5)
    finally:
        cv2.setNumThreads(cv_threads)
    medians = {backend: float(np.median(seconds)) * 1e3 for backend, seconds in times.items()}
    benchmark.group = f"{model}, {threads}, {'interleaved' if interleave else 'in blocks of five'}"
    for backend, ms in medians.items():
        benchmark.extra_info[f"{backend}_ms"] = round(ms, 3)
    benchmark.extra_info["native_vs_onnxruntime"] = round(medians["native"] /
                                                          medians["onnxruntime"], 3)
    if "opencv" in medians:
        benchmark.extra_info["native_vs_opencv"] = round(medians["native"] / medians["opencv"], 3)
    benchmark(runs_by_backend["native"], x)
