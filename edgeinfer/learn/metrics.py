"""How well one scorer did on a test set: accuracy, per-class precision,
recall and F1, the confusion matrix, and per-sample latency.

Predictions are matched to the test folders by label name. A test class the
scorer has no label for can never be right, so it counts as wrong for that
scorer and is listed under unknown_classes; a predicted label that is no
test class lands in the confusion matrix's last column, OTHER.
"""
from __future__ import annotations

import numpy as np

OTHER = "(other)"


def summarize(outcome, classes, truth):
    """A JSON-ready dict for one Outcome against the true class names."""
    n = len(truth)
    columns = list(classes) + [OTHER]
    confusion = np.zeros((len(classes), len(columns)), np.int64)
    for true, predicted in zip(truth, outcome.predicted):
        column = columns.index(predicted) if predicted in classes else len(classes)
        confusion[classes.index(true), column] += 1
    correct = int(np.trace(confusion[:, :len(classes)]))
    per_class = {}
    for i, name in enumerate(classes):
        hits, support, called = int(confusion[i, i]), int(confusion[i].sum()), \
            int(confusion[:, i].sum())
        precision = hits / called if called else 0.0
        recall = hits / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[name] = {"precision": round(precision, 4), "recall": round(recall, 4),
                           "f1": round(f1, 4), "support": support}
    latency = np.asarray(outcome.latency_ms, np.float64)
    return {
        "model": outcome.name,
        "samples": n,
        "accuracy": round(correct / n, 4) if n else None,
        "correct": correct,
        "per_class": per_class,
        "confusion": {"rows": list(classes), "columns": columns,
                      "counts": confusion.tolist()},
        "unknown_classes": [c for c in classes if c not in outcome.labels],
        "latency_ms": {"mean": round(float(latency.mean()), 3) if n else None,
                       "p90": round(float(np.percentile(latency, 90)), 3) if n else None},
    }
