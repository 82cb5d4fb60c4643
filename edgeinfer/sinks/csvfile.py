"""One CSV row per classified frame, flushed as written; the top-k as
label:score pairs in one column, the latency split in their own."""
import csv
import io

from ..run.results import STAGES
from .files import close_file, open_for_lines, write_line

COLUMNS = ["frame", "file", "position_s", "first_sample_time", "last_sample_time", "label",
           "score", "top", "captured_at", "latency_ms"] + [f"{stage}_ms" for stage in STAGES]


class CsvSink:
    def __init__(self, path):
        self.path = path
        self.file = open_for_lines(path, "CSV", newline="")
        self._row = io.StringIO()
        self._writer = csv.writer(self._row)
        self._write(COLUMNS)

    def _write(self, row):
        # format the row first, so the file only ever receives whole lines
        self._row.seek(0)
        self._row.truncate()
        self._writer.writerow(row)
        return write_line(self.file, self.path, self._row.getvalue())

    def write(self, result):
        top = result.top
        timings = result.timings_ms
        return self._write(
            [result.frame, result.path or "",
             "" if result.position is None else f"{result.position:.4f}",
             *(("", "") if result.span is None else
               ("" if t is None else f"{t:.6f}" for t in result.span)),
             top.label if top else "", f"{top.score:.6f}" if top else "",
             ";".join(f"{p.label}:{p.score:.6f}" for p in result.predictions),
             f"{result.captured_at:.6f}", f"{timings['latency']:.3f}"]
            + [f"{timings[stage]:.3f}" for stage in STAGES])

    def close(self):
        close_file(self.file)
