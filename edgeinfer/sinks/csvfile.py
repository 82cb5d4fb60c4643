"""One CSV row per classified frame, flushed as written; the top-k as
label:score pairs in one column, the latency split in their own."""
import csv

from ..results import STAGES
from .files import open_for_lines

COLUMNS = ["frame", "file", "position_s", "label", "score", "top", "captured_at",
           "latency_ms"] + [f"{stage}_ms" for stage in STAGES]


class CsvSink:
    def __init__(self, path):
        self.path = path
        self.file = open_for_lines(path, "CSV", newline="")
        self.writer = csv.writer(self.file)
        self.writer.writerow(COLUMNS)
        self.file.flush()

    def write(self, result):
        top = result.top
        timings = result.timings_ms
        self.writer.writerow(
            [result.frame, result.path or "",
             "" if result.position is None else f"{result.position:.4f}",
             top.label if top else "", f"{top.score:.6f}" if top else "",
             ";".join(f"{p.label}:{p.score:.6f}" for p in result.predictions),
             f"{result.captured_at:.6f}", f"{timings['latency']:.3f}"]
            + [f"{timings[stage]:.3f}" for stage in STAGES])
        self.file.flush()

    def close(self):
        self.file.close()
