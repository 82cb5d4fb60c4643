"""`edgeinfer eval`'s core: the same test set through every scorer, one
sample at a time, keeping each one's top label, its score and how long the
sample took (preprocess + inference + postprocess; reading the file is not
counted). The Ray path (ray_eval.py) calls classify_items on its share of
the items and gives back the same Outcome.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..errors import UserError
from .scorers import kind_of, top
from .testset import SampleReader, open_test_set


@dataclass
class Outcome:
    """One scorer's answers on the test set, in its order."""
    name: str
    labels: list            # the scorer's classes
    predicted: list = field(default_factory=list)   # top label per sample
    scores: list = field(default_factory=list)      # its probability
    latency_ms: list = field(default_factory=list)


def open_scorers(specs, backend="auto", threads=None):
    scorers = [spec.open(backend, threads) for spec in specs]
    kinds = {kind_of(s) for s in scorers}
    if len(kinds) > 1:
        raise UserError("the models take different inputs (image and sensor): evaluate image "
                        "models and sensor models in separate runs")
    return scorers


def load_test_set(scorers, data, label_column=None):
    first = scorers[0]
    return open_test_set(data, kind_of(first), first.sensor, label_column)


def readers_for(scorers, label_column=None):
    """A SampleReader per scorer, shared by scorers that read samples alike."""
    shared = {}
    readers = []
    for scorer in scorers:
        sensor = scorer.sensor
        key = None if sensor is None else (int(sensor.window), tuple(sensor.channels))
        if key not in shared:
            shared[key] = SampleReader(sensor, label_column)
        readers.append(shared[key])
    return readers


def classify_items(scorers, readers, items):
    """For each item, each scorer's (label, score, milliseconds)."""
    rows = []
    for item in items:
        read = {}
        row = []
        for scorer, reader in zip(scorers, readers):
            if id(reader) not in read:
                read[id(reader)] = reader.read(item)
            sample = read[id(reader)]
            started = time.perf_counter()
            scores = scorer.scores(sample)
            label, score = top(scores, scorer.labels)
            row.append((label, score, (time.perf_counter() - started) * 1e3))
        rows.append(row)
    return rows


def outcomes_from_rows(scorers, rows):
    outcomes = [Outcome(s.spec.name, list(s.labels)) for s in scorers]
    for row in rows:
        for outcome, (label, score, ms) in zip(outcomes, row):
            outcome.predicted.append(label)
            outcome.scores.append(score)
            outcome.latency_ms.append(ms)
    return outcomes


def evaluate_locally(scorers, test_set, label_column=None, progress=None):
    readers = readers_for(scorers, label_column)
    rows = []
    step = max(1, len(test_set.items) // 20)
    for start in range(0, len(test_set.items), step):
        rows += classify_items(scorers, readers, test_set.items[start:start + step])
        if progress is not None:
            progress(len(rows), len(test_set.items))
    return outcomes_from_rows(scorers, rows)


def truth_names(test_set):
    return [test_set.classes[i] for i in np.asarray(test_set.labels)]
