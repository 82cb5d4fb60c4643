"""The sink the live run's pipeline writes into: each result goes to the hub
(the latest, the stream clients) as the JSON record `run --json` writes, and
to the metrics; each frame to the MJPEG feed."""
from __future__ import annotations

import collections
import time

from ..sinks.jsonl import json_record
from ..sources.frame import Frame

RATE_WINDOW = 30        # results the recent rate is measured over
STALE_SECONDS = 2.0     # no result for this long: the rate is 0


class RecentRate:
    """Results per second over the last RATE_WINDOW results: what a live page
    shows (a whole run's average hides a slowdown)."""

    def __init__(self):
        self.times = collections.deque(maxlen=RATE_WINDOW)

    def tick(self):
        self.times.append(time.monotonic())

    @property
    def per_second(self):
        times = list(self.times)
        if len(times) < 2 or time.monotonic() - times[-1] > STALE_SECONDS:
            return 0.0
        return (len(times) - 1) / max(times[-1] - times[0], 1e-9)


class ServeSink:
    def __init__(self, hub, feed, metrics):
        self.hub, self.feed, self.metrics = hub, feed, metrics
        self.rate = RecentRate()

    def write(self, item, result):
        if result is not None:
            self.rate.tick()
            self.metrics.observe(result, "live")
            self.hub.publish(json_record(result))
        if isinstance(item, Frame):
            self.feed.put(item, result, self.rate.per_second)
        return True

    def close(self):
        pass
