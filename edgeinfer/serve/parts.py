"""What the server serves, put together: the models (shared by the API and the
live run), the results hub, the frame feed, the metrics, and with a source the
live run writing into them."""
from __future__ import annotations

import dataclasses

from ..run.pipeline import Pipeline
from .frames import FrameFeed
from .hub import CLIENT_QUEUE, ResultsHub
from .live import LiveRun
from .metrics import Metrics
from .predict import Predictor
from .sink import ServeSink
from .teach import Teacher


@dataclasses.dataclass
class Parts:
    predictor: Predictor
    hub: ResultsHub
    feed: FrameFeed
    metrics: Metrics
    live: LiveRun = None     # None: no source, the API answers posted images only
    teacher: Teacher = None  # with a live image source: the Teach panel's samples and training
    closing: bool = False

    def close(self):
        """Ends every open stream and video (on the event loop), so the server stops
        at once rather than waiting for pages left open."""
        self.closing = True
        self.hub.close()


def assemble(models, names, top_k, source=None, smoothing=1, client_queue=CLIENT_QUEUE,
             on_end=None, sinks=(), teach_dir=None, load=None):
    """The Parts for loaded models (named as in results); with a source, its
    LiveRun (not started) runs every model on it, smoothed over `smoothing`
    frames, writes each result to the server's sink and to `sinks` (MQTT), and
    calls on_end(live) when the source ends. With teach_dir and an image
    source, a Teacher records its frames there and trains on them, loading
    what it makes with load(path)."""
    predictor = Predictor(models, names, top_k)
    parts = Parts(predictor, ResultsHub(client_queue), FrameFeed(), Metrics())
    if source is not None:
        sink = ServeSink(parts.hub, parts.feed, parts.metrics)
        pipeline = Pipeline(source, predictor.live_classifiers(smoothing), [sink, *sinks])
        parts.live = LiveRun(pipeline, sink.rate, on_end=on_end)
        if teach_dir is not None and load is not None and predictor.takes_images:
            parts.teacher = Teacher(teach_dir, predictor, load, pipeline)
            pipeline.sinks.append(parts.teacher.tap)
    return parts
