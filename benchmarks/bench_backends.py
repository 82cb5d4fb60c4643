"""Whole classifiers per backend: the native executor, onnxruntime and OpenCV
DNN on the same ONNX file, batch 1, at one thread and at all cores. Group per
model and thread count; compare within a group. EfficientNet-Lite0 (224x224)
needs torch to be exported and is skipped without it; the small CNN always
runs, so the smoke run exercises the native backend."""
import os

import cv2
import numpy as np
import pytest

from backend_models import BACKENDS, MODELS, Unavailable, agreement_tolerance, input_for, \
    model_path, runner

THREADS = {"1 thread": 1, "all cores": 0}


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


@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("model", MODELS)
def bench_backend(benchmark, models, model, backend, threads):
    path = models[model]
    if isinstance(path, Unavailable):
        pytest.skip(str(path))
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
