"""GET /metrics in Prometheus' text format: the live run's frames, drops and
stream clients, the API's requests, and latency histograms per stage (summed
over the models, as `run` reports them) and per model. Written here rather
than through prometheus_client: a few counters and histograms need no extra
package on the device."""
from __future__ import annotations

import threading
from bisect import bisect_left

from ..run.results import MODEL_STAGES

# seconds; a Pi's model takes 5-500 ms, a posted photo's decode adds a few
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Histogram:
    def __init__(self):
        self.counts = [0] * (len(BUCKETS) + 1)   # the last: above every bucket
        self.sum = 0.0
        self.count = 0

    def observe(self, seconds):
        self.counts[bisect_left(BUCKETS, seconds)] += 1
        self.sum += seconds
        self.count += 1

    def lines(self, name, labels):
        cumulative = 0
        for bound, count in zip(BUCKETS + (float("inf"),), self.counts):
            cumulative += count
            le = "+Inf" if bound == float("inf") else repr(bound)
            yield f"{name}_bucket{_labels({**labels, 'le': le})} {cumulative}"
        yield f"{name}_sum{_labels(labels)} {self.sum!r}"
        yield f"{name}_count{_labels(labels)} {self.count}"


class Metrics:
    """Counters and histograms written from the pipeline thread and the API's
    worker threads, read by GET /metrics."""

    def __init__(self):
        self._lock = threading.Lock()
        self.requests = {}   # (route, status) -> count
        self.stages = {}     # (origin, stage) -> Histogram
        self.models = {}     # (model, stage) -> Histogram

    def observe(self, result, origin):
        """A Result's timings; origin "live" (the source) or "api" (a posted image)."""
        with self._lock:
            # every time the result carries: "model" and its stages, then "wait" and
            # "end_to_end" for a live item or "queued" for a file's (run/results.py)
            for stage, ms in result.timings_ms.items():
                self.stages.setdefault((origin, stage), Histogram()).observe(ms / 1e3)
            for answer in result.models:
                for stage in MODEL_STAGES:
                    self.models.setdefault((answer.model, stage), Histogram()).observe(
                        answer.timings_ms[stage] / 1e3)

    def count_request(self, route, status):
        with self._lock:
            self.requests[(route, status)] = self.requests.get((route, status), 0) + 1

    def render(self, live, hub):
        """The exposition text; live the LiveRun's status() (None without a source)."""
        out = []

        def metric(name, kind, help_text, samples):
            out.append(f"# HELP {name} {help_text}")
            out.append(f"# TYPE {name} {kind}")
            out.extend(samples)

        status = live or {}
        for key, help_text in (("frames", "Frames (or sensor windows) taken from the source."),
                               ("classified", "Items the models classified."),
                               ("dropped", "Frames the live source replaced before they were "
                                           "taken (the models were slower than the source)."),
                               ("skipped", "Files, frames or sensor lines that did not read.")):
            metric(f"edgeinfer_source_{key}_total", "counter", help_text,
                   [f"edgeinfer_source_{key}_total {status.get(key, 0)}"])
        metric("edgeinfer_source_fps", "gauge", "Classified items per second, recently.",
               [f"edgeinfer_source_fps {status.get('fps', 0.0)!r}"])
        metric("edgeinfer_stream_clients", "gauge", "Clients on GET /api/stream now.",
               [f"edgeinfer_stream_clients {len(hub.clients)}"])
        metric("edgeinfer_stream_clients_dropped_total", "counter",
               "Stream clients dropped for not keeping up with the results.",
               [f"edgeinfer_stream_clients_dropped_total {hub.dropped_clients}"])
        with self._lock:
            metric("edgeinfer_requests_total", "counter", "API requests by route and status.",
                   [f"edgeinfer_requests_total{_labels({'route': route, 'status': status})} "
                    f"{count}" for (route, status), count in sorted(self.requests.items())])
            metric("edgeinfer_stage_seconds", "histogram",
                   "Time per result in each stage, summed over the models (model, preprocess, "
                   "inference, postprocess); wait before the first model and end_to_end from "
                   "capture (or upload) to the last answer, or queued for a file's item.",
                   [line for (origin, stage), histogram in sorted(self.stages.items())
                    for line in histogram.lines("edgeinfer_stage_seconds",
                                                {"origin": origin, "stage": stage})])
            metric("edgeinfer_model_seconds", "histogram", "Time per result in each model's "
                   "stages.",
                   [line for (model, stage), histogram in sorted(self.models.items())
                    for line in histogram.lines("edgeinfer_model_seconds",
                                                {"model": model, "stage": stage})])
        return "\n".join(out) + "\n"


def _labels(labels):
    def escape(value):
        return str(value).replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n")
    return "{" + ",".join(f'{key}="{escape(value)}"' for key, value in labels.items()) + "}"
