"""source -> preprocess -> model -> postprocess -> sinks, one frame at a time,
timing each stage of each frame.

Latency is measured from the moment a frame was read off its source: "wait"
is how long it then sat before preprocessing began (in a live source, the age
of the newest frame; in a file, its time in the read-ahead queue), followed by
preprocess, inference and postprocess.
"""
from __future__ import annotations

import logging
import threading
import time

from ..core.loader import core
from .results import Result
from .run_stats import RunStats
from ..sinks.overlay import draw_overlay

log = logging.getLogger("edgeinfer")

POLL_SECONDS = 0.1  # how often a wait for frames looks at the stop flag


class Pipeline:
    def __init__(self, source, model, postprocessor, sinks=(), frame_sinks=(), every=1,
                 max_frames=None, preprocess_threads=1):
        if int(every) < 1:
            raise ValueError(f"every must be at least 1, got {every}")
        self.source = source
        self.model = model
        self.postprocessor = postprocessor
        self.sinks = list(sinks)
        self.frame_sinks = list(frame_sinks)
        self.every = int(every)
        self.max_frames = max_frames
        # One frame is too little work to share: with the capture thread and the
        # backend's threads on the same cores, an OpenMP team waits at its barrier
        # for a member that is not scheduled (measured 0.07 ms on one thread,
        # 24 ms on two, for a 320x240 frame on a busy 2-core machine).
        self.preprocess_threads = preprocess_threads
        self.stats = RunStats()
        self.stop_reason = None
        self._stop = threading.Event()

    def stop(self, reason="stopped"):
        """Asks the run to end after the frame in hand (safe from signal handlers)."""
        if self.stop_reason is None:
            self.stop_reason = reason
        self._stop.set()

    @property
    def stopping(self):
        return self._stop.is_set()

    def run(self):
        """Runs until the source ends, max_frames, or stop(); closes the source and
        sinks whatever happens. Returns the RunStats."""
        stats = self.stats
        tensor = self.model.new_input()
        latest = None
        threads_before = core.get_num_threads()
        if self.preprocess_threads:
            core.set_num_threads(int(self.preprocess_threads))
        try:
            while not self._stop.is_set():
                if self.max_frames is not None and stats.frames >= self.max_frames:
                    break
                frame = self.source.read(timeout=POLL_SECONDS)
                if frame is None:
                    if self.source.finished:
                        break
                    continue
                stats.frame_taken()
                if (stats.frames - 1) % self.every == 0:
                    latest = self._classify(frame, tensor)
                    stats.add(latest.timings_ms)
                    for sink in self.sinks:
                        if sink.write(latest) is False:
                            self.stop("output closed")
                if self.frame_sinks:
                    image = draw_overlay(frame.image, latest, stats.fps)
                    for sink in self.frame_sinks:
                        if sink.show(image) is False:
                            self.stop("window closed")
        finally:
            core.set_num_threads(threads_before)
            stats.finish()
            stats.dropped = getattr(self.source, "dropped", 0)
            stats.skipped = getattr(self.source, "skipped", 0)
            self._close_all()
        return stats

    def _classify(self, frame, tensor):
        started = time.monotonic()
        self.model.prepare(frame.image, out=tensor)
        prepared = time.monotonic()
        raw = self.model.run(tensor)
        inferred = time.monotonic()
        predictions = self.postprocessor(self.model.probabilities(raw)[0])
        done = time.monotonic()
        ms = {"wait": (started - frame.captured) * 1e3,
              "preprocess": (prepared - started) * 1e3,
              "inference": (inferred - prepared) * 1e3,
              "postprocess": (done - inferred) * 1e3,
              "latency": (done - frame.captured) * 1e3}
        return Result(frame.index, predictions, frame.wall_time,
                      frame.wall_time + (done - frame.captured), ms,
                      position=frame.position, path=frame.path, span=frame.span)

    def _close_all(self):
        for closable in [self.source] + self.sinks + self.frame_sinks:
            try:
                closable.close()
            except Exception as error:  # one failing close must not keep the others' files open
                log.warning(f"closing {type(closable).__name__} failed: {error}")
