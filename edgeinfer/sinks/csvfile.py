"""One CSV row per classified frame or window, flushed as written; the top-k as
label:score pairs in one column, the latency split in their own. With several
models, one row per frame and model, a "model" column naming it: the rows
stay alike whatever the number of models (long format, ready for a group-by);
its model/preprocess/inference/postprocess columns are that model's, the
others the frame's. A live source fills wait and end_to_end, a file queued."""
import csv
import io

from ..run.results import TIMES
from .files import close_file, open_for_lines, write_line

WHERE = ["frame", "file", "position_s", "first_sample_time", "last_sample_time"]
COLUMNS = WHERE + ["label", "score", "top", "captured_at"] + [f"{name}_ms" for name in TIMES]
MODELS_COLUMNS = WHERE + ["model"] + COLUMNS[len(WHERE):]


class CsvSink:
    def __init__(self, path, models=1):
        self.path = path
        self.several = models > 1
        self.file = open_for_lines(path, "CSV", newline="")
        self._row = io.StringIO()
        self._writer = csv.writer(self._row)
        self._write([MODELS_COLUMNS if self.several else COLUMNS])

    def _write(self, rows):
        # format the rows first, so the file only ever receives a frame's whole lines
        self._row.seek(0)
        self._row.truncate()
        self._writer.writerows(rows)
        return write_line(self.file, self.path, self._row.getvalue())

    def write(self, item, result):
        if result is None:
            return True
        where = [result.frame, result.path or "",
                 "" if result.position is None else f"{result.position:.4f}",
                 *(("", "") if result.span is None else
                   ("" if t is None else f"{t:.6f}" for t in result.span))]
        rows = []
        for answer in result.models:
            # the frame's wait, end-to-end or queue time, the model's own stages
            # (with one model they are the frame's)
            timings = {**result.timings_ms, **answer.timings_ms}
            top = answer.top
            rows.append(where + ([answer.model] if self.several else []) + [
                top.label if top else "", f"{top.score:.6f}" if top else "",
                ";".join(f"{p.label}:{p.score:.6f}" for p in answer.predictions),
                f"{result.captured_at:.6f}"] + \
                [f"{timings[name]:.3f}" if name in timings else "" for name in TIMES])
        return self._write(rows)

    def close(self):
        close_file(self.file)
