"""One line per classified frame or window on the terminal."""
import sys
import time

from .files import silence


def clock(wall_time):
    """Local time of day to the millisecond: 18:30:08.123."""
    milliseconds = int(wall_time * 1000) % 1000
    return time.strftime("%H:%M:%S", time.localtime(wall_time)) + f".{milliseconds:03d}"


def format_predictions(predictions):
    if predictions:
        return "  ".join(f"{p.label} {p.score:.3f}" for p in predictions)
    return "(nothing above the threshold)"


def format_result(result):
    """One line: the item, its top-k (each model's, named, when there are several), timings."""
    if len(result.models) == 1:
        labels = format_predictions(result.predictions)
    else:
        labels = "  |  ".join(f"{answer.model}: {format_predictions(answer.predictions)}"
                              for answer in result.models)
    return f"{clock(result.captured_at)}  {result.where}  {labels}  | {format_times(result.timings_ms)}"


def format_times(t):
    """The model's latency and its split first; then end-to-end (live) or the queue time (file)."""
    text = (f"model {t['model']:.1f} ms (pre {t['preprocess']:.1f}, infer {t['inference']:.1f}, "
            f"post {t['postprocess']:.1f})")
    if "end_to_end" in t:
        text += f", end-to-end {t['end_to_end']:.1f} ms"
    if "queued" in t:
        text += f", queued {t['queued']:.1f} ms"
    return text


class ConsoleSink:
    def __init__(self, stream=None):
        self.stream = stream or sys.stdout

    def write(self, item, result):
        """False when the reader has gone (`edgeinfer run ... | head`): the run ends."""
        if result is None:
            return True
        try:
            self.stream.write(format_result(result) + "\n")
            self.stream.flush()
        except BrokenPipeError:
            silence(self.stream)
            return False
        return True

    def close(self):
        try:
            self.stream.flush()
        except BrokenPipeError:
            pass
