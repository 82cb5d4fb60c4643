"""The models behind POST /api/predict, shared with the live run.

A Model is not thread-safe, so each has a lock that the live run's Classifier
and the API's take for the model's share of an item: a posted image and a
camera frame take turns on one model, while decoding and HTTP run alongside.
One model loaded once serves both, which a small board's memory needs."""
from __future__ import annotations

import itertools
import os
import threading
import time

from ..run.classifier import Classifier
from ..run.pipeline import classify
from ..run.postprocess import Postprocessor
from ..sources.frame import Frame


class LockedClassifier:
    """A Classifier that holds its model's lock while it works; its time starts
    once it has the model (the wait shows in the latency, not in a stage)."""

    def __init__(self, classifier, lock):
        self.classifier, self.lock = classifier, lock
        self.name, self.takes = classifier.name, classifier.takes

    def __call__(self, item, started):
        with self.lock:
            return self.classifier(item, time.monotonic())


class Predictor:
    def __init__(self, models, names, top_k, threshold=0.0):
        self.models, self.names = list(models), list(names)
        self.top_k, self.threshold = top_k, threshold
        self.locks = [threading.Lock() for _ in self.models]
        self.takes_images = all(model.info.image is not None for model in self.models)
        self._by_top_k = {}   # top_k -> [LockedClassifier]: one input buffer each, reused
        self.smoothing = 1
        self._made = threading.Lock()
        self._count = itertools.count()

    def live_classifiers(self, smoothing=1):
        """The live run's classifiers: the run's top-k, smoothed over its frames."""
        self.smoothing = smoothing
        return [self.live_classifier(index) for index in range(len(self.models))]

    def live_classifier(self, index):
        model, name, lock = self.models[index], self.names[index], self.locks[index]
        return LockedClassifier(Classifier(model, Postprocessor.for_model(
            model, self.top_k, self.threshold, self.smoothing), name), lock)

    def put(self, model, name):
        """Serves model too, from the next request on: in place of the model loaded
        from the same file, else after the others (named `name`, or name#2 ...
        when taken). Returns its index."""
        with self._made:
            paths = [os.path.abspath(m.path) for m in self.models]
            models, names, locks = list(self.models), list(self.names), list(self.locks)
            if os.path.abspath(model.path) in paths:
                index = paths.index(os.path.abspath(model.path))
                models[index], locks[index] = model, threading.Lock()
            else:
                index = len(models)
                taken, number = set(names), 1
                while (name if number == 1 else f"{name}#{number}") in taken:
                    number += 1
                models.append(model)
                names.append(name if number == 1 else f"{name}#{number}")
                locks.append(threading.Lock())
            # whole lists swapped, never changed in place: a request in hand keeps its own
            self.models, self.names, self.locks = models, names, locks
            self._by_top_k = {}
            return index

    def most_classes(self):
        return max((model.classes or len(model.labels) or 1 for model in self.models),
                   default=1)

    def _classifiers(self, top_k):
        with self._made:
            if top_k not in self._by_top_k:
                self._by_top_k[top_k] = [
                    LockedClassifier(Classifier(model, Postprocessor.for_model(
                        model, top_k, self.threshold), name), lock)
                    for model, name, lock in zip(self.models, self.names, self.locks)]
            return self._by_top_k[top_k]

    def __call__(self, image, top_k=None, filename=None, received=None):
        """The Result of every model on one BGR image; top_k at most the most
        classes any model has (so the cache of classifiers stays small).
        received: (time.monotonic(), time.time()) when the upload was in, so its
        decoding counts as the result's wait, as a frame's time in a queue does."""
        top_k = min(top_k or self.top_k, self.most_classes())
        monotonic, wall = received or (time.monotonic(), time.time())
        frame = Frame(image, next(self._count), monotonic, wall, path=filename)
        return classify(frame, self._classifiers(top_k))
