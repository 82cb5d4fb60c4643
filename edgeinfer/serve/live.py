"""The run's Pipeline on a thread of its own while the server answers
requests: the same source -> models -> sinks as `edgeinfer run`, with the
ServeSink among the sinks."""
from __future__ import annotations

import logging
import threading

log = logging.getLogger("edgeinfer")

STOP_SECONDS = 5.0   # how long stop() waits for the item in hand


class LiveRun:
    def __init__(self, pipeline, rate, on_end=None):
        """pipeline: a run.pipeline.Pipeline; rate: the ServeSink's RecentRate;
        on_end(live) is called on the run's thread when the source ends or fails."""
        self.pipeline = pipeline
        self.rate = rate
        self.on_end = on_end
        self.error = None
        self._thread = threading.Thread(target=self._run, name="edgeinfer-live", daemon=True)

    @property
    def description(self):
        return self.pipeline.source.description

    def start(self):
        self._thread.start()

    def _run(self):
        try:
            self.pipeline.run()
        except Exception as error:   # the server goes on answering; /healthz and the log say it
            self.error = str(error).splitlines()[0] if str(error) else type(error).__name__
            log.warning(f"the live run stopped: {self.error}")
        if self.on_end is not None:
            self.on_end(self)

    @property
    def running(self):
        return self._thread.is_alive()

    def stop(self):
        """Ends the run after the item in hand and waits for its files to close."""
        self.pipeline.stop("server stopped")
        if self._thread.is_alive():
            self._thread.join(STOP_SECONDS)

    def status(self):
        """What the page, /healthz and /metrics show of the run."""
        stats, source = self.pipeline.stats, self.pipeline.source
        state = "running" if self.running else ("failed" if self.error else "finished")
        status = {"source": source.description, "state": state, "frames": stats.frames,
                  "classified": stats.classified,
                  "dropped": getattr(source, "dropped", stats.dropped),
                  "skipped": getattr(source, "skipped", stats.skipped),
                  "fps": round(self.rate.per_second, 2)}
        if self.error:
            status["error"] = self.error
        return status
