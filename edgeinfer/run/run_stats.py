"""Counts and per-stage timings of a run, and the summary printed at its end."""
from __future__ import annotations

import time

import numpy as np

from .results import TIMES

# how each timing is named in the summary: the model's own latency first, its
# stages under it; the queue wait of a file set apart as what it is
SUMMARY_NAMES = {"model": "model", "preprocess": "  preprocess", "inference": "  inference",
                 "postprocess": "  postprocess", "wait": "wait", "end_to_end": "end-to-end",
                 "queued": "queued"}
SUMMARY_NOTES = {"model": "latency: preprocess + inference + postprocess",
                 "wait": "age of the frame when taken",
                 "end_to_end": "latency: capture to result",
                 "queued": "in the read-ahead queue; not latency"}


def unit_of(takes):
    """What a run counts: frames of a camera, video or images; windows of a sensor."""
    return "window" if "sensor" in str(takes) else "frame"


def counted(count, unit):
    """'1 frame', '2 frames'."""
    return f"{count} {unit}{'' if count == 1 else 's'}"


class RunStats:
    def __init__(self, unit="frame"):
        self.unit = unit         # "frame" or "window" (a sensor run)
        self.frames = 0          # frames (windows) taken from the source
        self.classified = 0      # frames that went through the model
        self.dropped = 0         # frames a live source replaced before they were taken
        self.skipped = 0         # image files, video frames or sensor lines that did not read
        self.started = None      # time.monotonic() of the first frame
        self.ended = None
        self.samples = {name: [] for name in TIMES}

    def frame_taken(self):
        if self.started is None:
            self.started = time.monotonic()
        self.frames += 1

    def add(self, timings_ms):
        self.classified += 1
        for name, value in timings_ms.items():
            if name in self.samples:
                self.samples[name].append(value)

    def finish(self):
        self.ended = time.monotonic()

    @property
    def seconds(self):
        if self.started is None:
            return 0.0
        return (self.ended or time.monotonic()) - self.started

    @property
    def fps(self):
        """Classified frames (windows) per second, first frame to last result."""
        seconds = self.seconds
        return self.classified / seconds if seconds > 0 else 0.0

    @property
    def measured(self):
        """The timings this run has, in summary order."""
        return [name for name in TIMES if self.samples[name]]

    def percentiles(self, stage, qs=(50, 90, 99)):
        values = self.samples[stage]
        if not values:
            return tuple(float("nan") for _ in qs)
        return tuple(float(v) for v in np.percentile(values, qs))

    def as_dict(self):
        return {"unit": self.unit, "frames": self.frames, "classified": self.classified,
                "dropped": self.dropped, "skipped": self.skipped,
                "seconds": round(self.seconds, 4), "per_second": round(self.fps, 3),
                "ms": {stage: dict(zip(("p50", "p90", "p99"),
                                       (round(v, 3) for v in self.percentiles(stage))))
                       for stage in self.measured}}

    def summary(self):
        rate = f"{self.fps:.1f} FPS" if self.unit == "frame" else f"{self.fps:.1f} windows/s"
        lines = [f"{counted(self.frames, self.unit)}, {self.classified} classified, "
                 f"{self.dropped} dropped" + (f", {self.skipped} skipped" if self.skipped else "")
                 + f" in {self.seconds:.2f} s: {rate}"]
        if self.classified:
            lines.append(f"  {'ms':14} {'p50':>8} {'p90':>8} {'p99':>8}")
            for stage in self.measured:
                p50, p90, p99 = self.percentiles(stage)
                note = f"   {SUMMARY_NOTES[stage]}" if stage in SUMMARY_NOTES else ""
                lines.append(f"  {SUMMARY_NAMES[stage]:14} {p50:8.2f} {p90:8.2f} {p99:8.2f}"
                             f"{note}")
        return "\n".join(lines)

