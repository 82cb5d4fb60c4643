"""A model's raw scores to labelled results: softmax when they are logits,
smoothing over frames, top-k, threshold.

Pure numpy on one score vector at a time; knows nothing of models or frames."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Prediction:
    label: str
    index: int
    score: float


# predictions per result wherever none is asked for: the CLI, Model.predict, serve
DEFAULT_TOP_K = 5


def softmax(logits, axis=-1):
    """Probabilities from logits; stable for large values (subtracts the max)."""
    logits = np.asarray(logits, dtype=np.float64)
    shifted = logits - np.max(logits, axis=axis, keepdims=True)
    exp = np.exp(shifted)
    return (exp / np.sum(exp, axis=axis, keepdims=True)).astype(np.float32)


def looks_like_probabilities(scores, tolerance=1e-3):
    """True when every row is non-negative and sums to 1: a model that already
    applied softmax, whose scores must not be softmaxed again."""
    scores = np.asarray(scores)
    return bool(np.all(scores >= 0) and np.all(np.abs(scores.sum(axis=-1) - 1) <= tolerance))


def probabilities(raw, output=None):
    """(batch, classes) probabilities from a model's raw scores output. output is
    what the model's metadata says it gives: "probabilities" pass as they are,
    "logits" get a softmax, None (unknown) is told apart by looks_like_probabilities."""
    raw = np.asarray(raw, dtype=np.float32)
    raw = raw.reshape(raw.shape[0] if raw.ndim > 1 else 1, -1)
    if output == "probabilities" or (output is None and looks_like_probabilities(raw)):
        return raw
    return softmax(raw, axis=-1)


def top_k(scores, labels, k=DEFAULT_TOP_K, threshold=0.0):
    """The k best of a 1-D score vector as Predictions, best first, dropping
    those scoring below threshold. Ties keep the lower index first."""
    scores = np.asarray(scores).ravel()
    k = max(0, min(int(k), scores.size))
    if k == 0:
        return []
    # a stable sort keeps equal scores in class order, also at the k-th place,
    # where argpartition would pick among them arbitrarily; 1000 classes take ~20 us
    order = np.argsort(-scores, kind="stable")[:k]
    return [Prediction(label_of(labels, int(i)), int(i), float(scores[i]))
            for i in order if scores[i] >= threshold]


def label_of(labels, index):
    if labels and 0 <= index < len(labels):
        return str(labels[index])
    return f"class {index}"


class ScoreSmoother:
    """Mean of the last n score vectors, so a label does not flicker from one
    frame to the next; n=1 passes scores through."""

    def __init__(self, n=1):
        if int(n) < 1:
            raise ValueError(f"smoothing needs n >= 1 frames, got {n}")
        self.n = int(n)
        self._history = None
        self._count = 0

    def update(self, scores):
        scores = np.asarray(scores, dtype=np.float32).ravel()
        if self.n == 1:
            return scores
        if self._history is None or self._history.shape[1] != scores.size:
            self._history = np.zeros((self.n, scores.size), dtype=np.float32)
            self._count = 0
        self._history[self._count % self.n] = scores
        self._count += 1
        return self._history[:min(self._count, self.n)].mean(axis=0)


class Postprocessor:
    """One model's raw scores for one frame (or window) to its labelled top-k:
    probabilities (output: "logits", "probabilities" or None, as for
    probabilities()), smoothed over the last `smoothing` frames, the best
    top_k at or above threshold."""

    def __init__(self, labels, top_k=DEFAULT_TOP_K, threshold=0.0, smoothing=1, output=None):
        if int(top_k) < 1:
            raise ValueError(f"top-k must be at least 1, got {top_k}")
        if not 0.0 <= float(threshold) <= 1.0:
            raise ValueError(f"threshold is a probability between 0 and 1, got {threshold}")
        self.labels = list(labels or [])
        self.top_k = int(top_k)
        self.threshold = float(threshold)
        self.output = output
        self.smoother = ScoreSmoother(smoothing)

    @classmethod
    def for_model(cls, model, top_k=DEFAULT_TOP_K, threshold=0.0, smoothing=1):
        """The Postprocessor a Model's labels and output kind call for."""
        return cls(model.labels, top_k, threshold, smoothing, output=model.info.output)

    def __call__(self, raw):
        smoothed = self.smoother.update(probabilities(raw, self.output)[0])
        return top_k(smoothed, self.labels, self.top_k, self.threshold)
