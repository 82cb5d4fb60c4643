"""Counts and per-stage timings of a run, and the summary printed at its end."""
from __future__ import annotations

import time

import numpy as np

from .results import STAGES

SUMMARY_STAGES = STAGES + ("latency",)


class RunStats:
    def __init__(self):
        self.frames = 0          # frames taken from the source
        self.classified = 0      # frames that went through the model
        self.dropped = 0         # frames a live source replaced before they were taken
        self.skipped = 0         # image files, video frames or sensor lines that did not read
        self.started = None      # time.monotonic() of the first frame
        self.ended = None
        self.samples = {stage: [] for stage in SUMMARY_STAGES}

    def frame_taken(self):
        if self.started is None:
            self.started = time.monotonic()
        self.frames += 1

    def add(self, timings_ms):
        self.classified += 1
        for stage in SUMMARY_STAGES:
            self.samples[stage].append(timings_ms[stage])

    def finish(self):
        self.ended = time.monotonic()

    @property
    def seconds(self):
        if self.started is None:
            return 0.0
        return (self.ended or time.monotonic()) - self.started

    @property
    def fps(self):
        """Classified frames per second, first frame to last result."""
        seconds = self.seconds
        return self.classified / seconds if seconds > 0 else 0.0

    def percentiles(self, stage, qs=(50, 90, 99)):
        values = self.samples[stage]
        if not values:
            return tuple(float("nan") for _ in qs)
        return tuple(float(v) for v in np.percentile(values, qs))

    def as_dict(self):
        return {"frames": self.frames, "classified": self.classified, "dropped": self.dropped,
                "skipped": self.skipped, "seconds": round(self.seconds, 4),
                "fps": round(self.fps, 3),
                "ms": {stage: dict(zip(("p50", "p90", "p99"),
                                       (round(v, 3) for v in self.percentiles(stage))))
                       for stage in SUMMARY_STAGES}}

    def summary(self):
        lines = [f"{self.frames} frames, {self.classified} classified, {self.dropped} dropped"
                 + (f", {self.skipped} skipped" if self.skipped else "")
                 + f" in {self.seconds:.2f} s: {self.fps:.1f} FPS"]
        if self.classified:
            lines.append(f"  {'ms':12} {'p50':>8} {'p90':>8} {'p99':>8}")
            for stage in SUMMARY_STAGES:
                p50, p90, p99 = self.percentiles(stage)
                lines.append(f"  {stage:12} {p50:8.2f} {p90:8.2f} {p99:8.2f}")
        return "\n".join(lines)
