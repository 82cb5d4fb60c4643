"""Measuring a model the way a user will run it: warm-up, then per-run times
of preprocessing and inference, summarised as percentiles; one process per
measured setting so that its peak memory is its own. Several streams are
several sessions run side by side (as OpenVINO's benchmark_app -nstreams), their
frames per second counted together."""
from __future__ import annotations

import multiprocessing
import os
import platform
import resource
import sys
import threading
import time

import numpy as np

from ..backends.devices import physical_cores

PERCENTILES = (50, 90, 99)
# a row whose p90 is more than this multiple of its p50 was disturbed (other
# programs, frequency changes, a swapping machine): its figures are flagged
NOISY_SPREAD = 1.5


def latency_summary(seconds):
    """min / p50 / p90 / p99 / max / mean / std of run times, in milliseconds.
    Percentiles interpolate linearly between the two nearest runs."""
    ms = np.asarray(seconds, dtype=np.float64) * 1e3
    if ms.size == 0:
        raise ValueError("no runs to summarise")
    p50, p90, p99 = np.percentile(ms, PERCENTILES)
    return {"min": float(ms.min()), "p50": float(p50), "p90": float(p90), "p99": float(p99),
            "max": float(ms.max()), "mean": float(ms.mean()), "std": float(ms.std())}


def spread(summary):
    """p90 / p50 of a latency summary: 1.0 for perfectly steady runs."""
    return summary["p90"] / summary["p50"] if summary["p50"] > 0 else 1.0


def _sample_inputs(model, image_paths):
    """The frames to feed in turn: the given images, else the bundled photo; a
    sensor model gets one window of unit-variance noise."""
    if model.info.image is None:
        sensor = model.info.sensor
        return [np.random.default_rng(0).normal(size=(sensor.window, len(sensor.channels)))
                .astype(np.float32)]
    from ..media import SAMPLE_IMAGE, read_image
    return [read_image(path) for path in image_paths or [SAMPLE_IMAGE]]


def backend_threads(backend, threads):
    """The inference threads `backend` really uses when asked for `threads`
    (None: its default), as a number."""
    if backend == "native":
        from ..core.runtime import get_num_threads, set_num_threads

        before = get_num_threads()
        set_num_threads(threads or 0)  # 0: the core's default (its cores, or 1 without threads)
        used = get_num_threads()
        set_num_threads(before)
        return used
    return threads or physical_cores()


class _Stream(threading.Thread):
    """One session running frames back to back: warm-up, then (after every
    stream has warmed up) measured runs until `runs` are done or the clock
    passes `deadline`."""

    def __init__(self, model, frames, batch, warmup, runs, start, counter):
        super().__init__(daemon=True)
        self.model, self.frames, self.batch = model, frames, batch
        self.warmup, self.runs, self.start_line, self.counter = warmup, runs, start, counter
        self.deadline = None
        self.pre, self.infer, self.error, self.finished = [], [], None, None

    def _once(self, index, tensor):
        started = time.perf_counter()
        for b in range(self.batch):
            frame = self.frames[(index * self.batch + b) % len(self.frames)]
            self.model.prepare(frame, out=tensor[b:b + 1])
        prepared = time.perf_counter()
        self.model.run(tensor)
        return started, prepared, time.perf_counter()

    def run(self):
        try:
            tensor = self.model.new_input(self.batch)
            for i in range(self.warmup):
                self._once(i, tensor)
        except BaseException as error:  # handed to the measuring thread
            self.error = error
        self.start_line.wait()
        i = 0
        while self.error is None:
            if self.runs is not None and i >= self.runs:
                break
            if self.deadline is not None and time.perf_counter() >= self.deadline:
                break
            try:
                started, prepared, done = self._once(self.warmup + i, tensor)
            except BaseException as error:
                self.error = error
                break
            self.pre.append(prepared - started)
            self.infer.append(done - prepared)
            self.counter.append(1)
            i += 1
        self.finished = time.perf_counter()


def _run_streams(streams, runs, seconds, label, quiet):
    """Runs the streams together behind a bar; the measured wall time."""
    from ..progress import progress

    for stream in streams:
        stream.start()
    start_line = streams[0].start_line
    while start_line.n_waiting < len(streams):  # still warming up
        time.sleep(0.01)
    began = time.perf_counter()
    for stream in streams:
        stream.deadline = began + seconds if seconds else None
    start_line.wait()
    total = seconds if seconds else runs * len(streams)
    with progress(total=total, desc=label, unit="s" if seconds else "run", quiet=quiet) as bar:
        shown = 0
        while any(stream.is_alive() for stream in streams):
            time.sleep(0.1)
            now = min(time.perf_counter() - began, seconds) if seconds else \
                len(streams[0].counter)
            bar.update(now - shown)
            bar.set_postfix_str(f"{len(streams[0].counter)} runs")
            shown = now
    for stream in streams:
        if stream.error is not None:
            raise stream.error
    return max(stream.finished for stream in streams) - began


def measure(model_path, backend, threads, runs, warmup, batch=1, images=None, profile=False,
            seconds=None, streams=1, quiet=True):
    """One row: this backend at this thread count with `streams` sessions side
    by side, measured in this process for `runs` runs each, or for `seconds`.
    threads=None is the backend's default, shared out between the streams."""
    from ..core.runtime import set_num_threads
    from ..model import load

    set_num_threads(1)  # preprocessing one frame: see the pipeline's choice
    used = backend_threads(backend, threads)
    if threads is None and streams > 1:  # the cores shared out, as benchmark_app does
        threads = used = max(1, used // streams)
    models = [load(model_path, backend=backend, threads=threads) for _ in range(streams)]
    frames = _sample_inputs(models[0], images)
    start_line, counter = threading.Barrier(streams + 1), []
    workers = [_Stream(model, frames, batch, warmup, None if seconds else runs, start_line,
                       counter) for model in models]
    label = f"{models[0].backend.name}, {used} thread{'s' if used != 1 else ''}" + \
        (f", {streams} streams" if streams > 1 else "")
    wall = _run_streams(workers, runs, seconds, label, quiet)
    # native runs a model too small to share on fewer threads (native/work.py)
    asked, used = used, getattr(models[0].backend, "thread_count", used)
    pre = [t for w in workers for t in w.pre]
    infer = [t for w in workers for t in w.infer]
    total = [p + q for p, q in zip(pre, infer)]
    row = {"backend": models[0].backend.name, "threads": used, "threads_asked": asked,
           "threads_default": threads is None,
           "batch": batch, "streams": streams, "runs": len(total), "seconds": wall,
           "frames": len(frames),
           "preprocess_ms": latency_summary(pre), "inference_ms": latency_summary(infer),
           "total_ms": latency_summary(total),
           "throughput_per_s": batch * len(total) / wall,
           "peak_rss_mb": peak_rss_mb()}
    row["spread_p90_p50"] = spread(row["total_ms"])
    row["noisy"] = row["spread_p90_p50"] > NOISY_SPREAD
    if profile:
        tensor = models[0].new_input(batch)
        models[0].prepare(frames[0], out=tensor[0:1])
        row["profile"] = operator_profile(models[0].backend, {models[0].input.name: tensor})
    return row


def operator_profile(backend, feed):
    """Per-operator times over runs of feed, from a backend that can report
    them, else None."""
    report = getattr(backend, "profile", None)
    return report(feed) if callable(report) else None


def peak_rss_mb():
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024.0 if sys.platform != "darwin" else peak / 2**20


def _measure_in_child(args, kwargs):
    return measure(*args, **kwargs)


def measure_isolated(*args, **kwargs):
    """measure() in a fresh process, so peak memory belongs to that backend alone."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        return pool.apply(_measure_in_child, (args, kwargs))


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
