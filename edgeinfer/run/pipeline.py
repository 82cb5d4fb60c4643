"""source -> every model (preprocess, inference, postprocess) -> every sink,
one item at a time, timing each stage.

An item is what the source yields: a Frame of a camera, video or image file,
or a SensorWindow of a sensor stream. Each Classifier (one per model) prepares
the item for its own model; the Result carries every model's answer. Every
sink gets every item through write(item, result); result is None for the
items --every skips, so a video sink still writes each frame.

The latency people compare is the model's: preprocess, inference and
postprocess, summed over the models. Around it, a live source (camera, stream,
paced video, a sensor stream as it arrives) adds "wait", the age of the frame
when it was taken, and "end_to_end", from capture to result; a file source
instead reports "queued", the time the item sat in the read-ahead queue, which
says how far ahead the reader got, not how slow anything is.
"""
from __future__ import annotations

import logging
import threading
import time

from .results import MODEL_STAGES, Result
from .run_stats import RunStats, unit_of

log = logging.getLogger("edgeinfer")

POLL_SECONDS = 0.1  # how often a wait for items looks at the stop flag


class Pipeline:
    def __init__(self, source, classifiers, sinks=(), every=1, max_frames=None):
        if int(every) < 1:
            raise ValueError(f"every must be at least 1, got {every}")
        self.classifiers = list(classifiers)
        if not self.classifiers:
            raise ValueError("a run needs at least one model")
        kinds = {classifier.takes for classifier in self.classifiers}
        if len(kinds) > 1:
            raise ValueError("the models take different inputs (" + ", ".join(
                f"{c.name}: {c.takes}" for c in self.classifiers) + "); one source feeds them all")
        self.source = source
        self.sinks = list(sinks)
        self.every = int(every)
        self.max_frames = max_frames
        # a source that does not say is taken as live: its wait is then part of a
        # figure named end-to-end, which it is
        self.live = bool(getattr(source, "live", True))
        self.stats = RunStats(unit_of(self.classifiers[0].takes))
        self.stop_reason = None
        self._stop = threading.Event()

    def stop(self, reason="stopped"):
        """Asks the run to end after the item in hand (safe from signal handlers)."""
        if self.stop_reason is None:
            self.stop_reason = reason
        self._stop.set()

    @property
    def stopping(self):
        return self._stop.is_set()

    def run(self):
        """Runs until the source ends, max_frames, or stop(); closes the source and
        sinks whatever happens. Returns the RunStats."""
        for _ in self.results():
            pass
        return self.stats

    def results(self):
        """The run as it goes: yields (item, result) after the sinks have had them
        (result None for an item --every skipped). Closing the generator (a
        `break` in the caller's loop) ends the run and closes everything."""
        stats = self.stats
        try:
            while not self._stop.is_set():
                if self.max_frames is not None and stats.frames >= self.max_frames:
                    break
                item = self.source.read(timeout=POLL_SECONDS)
                if item is None:
                    if self.source.finished:
                        break
                    continue
                stats.frame_taken()
                result = None
                if (stats.frames - 1) % self.every == 0:
                    result = self._classify(item)
                    stats.add(result.timings_ms)
                for sink in self.sinks:
                    if sink.write(item, result) is False:
                        self.stop(getattr(sink, "closed_reason", "output closed"))
                yield item, result
        finally:
            stats.finish()
            stats.dropped = getattr(self.source, "dropped", 0)
            stats.skipped = getattr(self.source, "skipped", 0)
            self._close_all()

    def _classify(self, item):
        return classify(item, self.classifiers, self.live)

    def _close_all(self):
        for closable in [self.source] + self.sinks:
            try:
                closable.close()
            except Exception as error:  # one failing close must not keep the others' files open
                log.warning(f"closing {type(closable).__name__} failed: {error}")


def classify(item, classifiers, live=True):
    """The Result of every classifier on one item, each stage timed. live: the
    item came from a live source (or a request), so its wait before the models
    is part of an end-to-end latency; else it sat in a file's read-ahead queue."""
    started = done = time.monotonic()
    answers = []
    for classifier in classifiers:  # each model's time starts where the last one's ended
        answer, done = classifier(item, done)
        answers.append(answer)
    ms = {stage: sum(answer.timings_ms[stage] for answer in answers) for stage in MODEL_STAGES}
    ms = {"model": sum(ms.values()), **ms}
    if live:
        ms["wait"] = (started - item.captured) * 1e3
        ms["end_to_end"] = (done - item.captured) * 1e3
    else:
        ms["queued"] = (started - item.captured) * 1e3
    return Result.of(item, answers, item.wall_time + (done - item.captured), ms)
