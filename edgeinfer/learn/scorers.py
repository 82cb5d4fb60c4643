"""What `edgeinfer eval` compares: each model file, and optionally a kNN
baseline on the first model's embeddings. A ScorerSpec is a small picklable
description (so a Ray actor can open its own copy); open() gives a scorer
with labels and scores(sample) -> probabilities, one sample at a time as
`run` classifies frames, so latencies are per sample.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional

import numpy as np

from ..errors import UserError
from ..run.postprocess import label_of
from .embed import Embedder
from .heads import KnnHead
from .samples import list_samples, read_image_sample, read_window_sample


@dataclass
class ScorerSpec:
    name: str                     # how reports call it
    path: str                     # the model file (the baseline's: the model it embeds with)
    head: Optional[object] = None  # a fitted KnnHead for the baseline
    labels: Optional[list] = None  # the baseline's classes

    def open(self, backend="auto", threads=None):
        if self.head is None:
            return ModelScorer(self, backend, threads)
        return BaselineScorer(self, backend, threads)


class ModelScorer:
    def __init__(self, spec, backend, threads):
        from ..model import load

        self.spec = spec
        self.model = load(spec.path, backend=backend, threads=threads)
        self.labels = list(self.model.labels)
        self.sensor = self.model.info.sensor if self.model.info.image is None else None
        self._tensor = self.model.new_input(1)

    def scores(self, sample):
        self.model.prepare(sample, out=self._tensor)
        return self.model.probabilities(self.model.run(self._tensor))[0]


class BaselineScorer:
    def __init__(self, spec, backend, threads):
        self.spec = spec
        self.embedder = Embedder(spec.path, backend=backend, threads=threads)
        self.labels = list(spec.labels)
        info = self.embedder.model.info
        self.sensor = info.sensor if info.image is None else None
        self._tensor = self.embedder.model.new_input(1)

    def scores(self, sample):
        self.embedder.model.prepare(sample, out=self._tensor)
        return self.spec.head.scores(self.embedder.embed_tensor(self._tensor))[0]


def model_specs(paths):
    """A spec per model file, named by its file name (by its path where two share one)."""
    names = [os.path.basename(p) for p in paths]
    return [ScorerSpec(name if names.count(name) == 1 else p, p) for name, p in zip(names, paths)]


def knn_baseline(base, train, backend="auto", threads=None):
    """A 1-nearest-neighbour head (learn/heads.py's KnnHead) on base's
    embeddings of the samples in the train folder, as a scorer spec."""
    embedder = Embedder(base, backend=backend, threads=threads)
    files = list_samples(train, "image" if embedder.is_image else "sensor")
    if len(files.classes) < 2:
        raise UserError(f"--train folder {train} has one class ({files.classes[0]}): the kNN "
                        "baseline needs at least two class folders")
    sensor = embedder.model.info.sensor
    samples = [read_image_sample(p) if embedder.is_image else read_window_sample(p, sensor)
               for p in files.paths]
    head = KnnHead().fit(embedder.embed(samples), files.labels, len(files.classes))
    name = f"knn on {os.path.basename(base)} features"
    return ScorerSpec(name, os.fspath(base), head=head, labels=list(files.classes))


def kind_of(scorer):
    return "image" if scorer.sensor is None else "sensor"


def top(scores, labels):
    """(label, score) of the best class."""
    best = int(np.argmax(scores))
    return label_of(labels, best), float(scores[best])
