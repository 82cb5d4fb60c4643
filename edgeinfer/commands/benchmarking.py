"""Measuring a model the way a user will run it: warm-up, then per-run times
of preprocessing and inference, summarised as percentiles; one process per
measured setting so that its peak memory is its own."""
from __future__ import annotations

import multiprocessing
import os
import platform
import resource
import sys
import time

import numpy as np

PERCENTILES = (50, 90, 99)


def latency_summary(seconds):
    """min / p50 / p90 / p99 / max / mean / std of run times, in milliseconds.
    Percentiles interpolate linearly between the two nearest runs."""
    ms = np.asarray(seconds, dtype=np.float64) * 1e3
    if ms.size == 0:
        raise ValueError("no runs to summarise")
    p50, p90, p99 = np.percentile(ms, PERCENTILES)
    return {"min": float(ms.min()), "p50": float(p50), "p90": float(p90), "p99": float(p99),
            "max": float(ms.max()), "mean": float(ms.mean()), "std": float(ms.std())}


def _sample_input(model, image_path):
    if model.info.image is None:  # a sensor window of unit-variance noise
        sensor = model.info.sensor
        return np.random.default_rng(0).normal(size=(sensor.window, len(sensor.channels))) \
            .astype(np.float32)
    from ..media import SAMPLE_IMAGE, read_image
    return read_image(image_path or SAMPLE_IMAGE)


def measure(model_path, backend, threads, runs, warmup, batch=1, image=None, profile=False):
    """One row: this backend at this thread count, measured in this process."""
    from ..core.runtime import set_num_threads
    from ..model import load

    set_num_threads(1)  # preprocessing one frame: see the pipeline's choice
    model = load(model_path, backend=backend, threads=threads)
    frame = _sample_input(model, image)
    tensor = model.new_input(batch)
    pre, infer = [], []
    for i in range(warmup + runs):
        started = time.perf_counter()
        for b in range(batch):
            model.prepare(frame, out=tensor[b:b + 1])
        prepared = time.perf_counter()
        model.run(tensor)
        done = time.perf_counter()
        if i >= warmup:
            pre.append(prepared - started)
            infer.append(done - prepared)
    total = [p + q for p, q in zip(pre, infer)]
    row = {"backend": model.backend.name, "threads": threads, "batch": batch, "runs": runs,
           "preprocess_ms": latency_summary(pre), "inference_ms": latency_summary(infer),
           "total_ms": latency_summary(total),
           "throughput_per_s": batch * runs / sum(total),
           "peak_rss_mb": peak_rss_mb()}
    if profile:
        row["profile"] = operator_profile(model.backend, {model.input.name: tensor})
    return row


def operator_profile(backend, feed):
    """Per-operator times over runs of feed, from a backend that can report
    them, else None."""
    report = getattr(backend, "profile", None)
    return report(feed) if callable(report) else None


def peak_rss_mb():
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024.0 if sys.platform != "darwin" else peak / 2**20


def _measure_in_child(args):
    return measure(*args)


def measure_isolated(*args):
    """measure() in a fresh process, so peak memory belongs to that backend alone."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        return pool.apply(_measure_in_child, (args,))


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith(("model name", "hardware", "cpu model")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info():
    from ..core.runtime import build_info
    from ..version import __version__

    versions = {"edgeinfer": __version__, "python": platform.python_version()}
    for name in ("numpy", "onnx", "onnxruntime", "cv2"):
        try:
            versions[name] = __import__(name).__version__
        except ImportError:
            pass
    return {"cpu": cpu_model(), "machine": platform.machine(), "cores": os.cpu_count(),
            "core": build_info(), "versions": versions}


def with_ratios(rows):
    """Each row's p50 total time as a multiple of the fastest row's."""
    fastest = min(row["total_ms"]["p50"] for row in rows)
    for row in rows:
        row["ratio_to_fastest"] = row["total_ms"]["p50"] / fastest
    return rows
