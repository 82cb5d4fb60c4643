"""Training a personalisation head: edgeinfer's numpy L-BFGS logistic
regression on 500 embeddings x 1280 dims (EfficientNet-Lite0's width), 10
classes, against scikit-learn's LogisticRegression (lbfgs) on the same data as
the reference. Target: <= 0.5 s for edgeinfer's."""
import numpy as np
import pytest
from threadpoolctl import threadpool_limits   # comes with scikit-learn (the test extra)

from edgeinfer.learn.heads import SoftmaxHead, accuracy


def _embeddings(seed=0, n=500, dims=1280, classes=10):
    """Seeded class clusters in ReLU-like non-negative features."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 1, (classes, dims))
    y = np.arange(n) % classes
    x = np.maximum(centres[y] + rng.normal(0, 2.0, (n, dims)), 0).astype(np.float32)
    return x, y


@pytest.mark.benchmark(group="head")
def bench_head_softmax(benchmark):
    x, y = _embeddings()
    with threadpool_limits(1, "blas"):    # one core, like every other comparison here
        head = benchmark(lambda: SoftmaxHead().fit(x[:400], y[:400], 10, x[400:], y[400:]))
    assert accuracy(head, x[400:], y[400:]) > 0.9


@pytest.mark.benchmark(group="head")
def bench_head_softmax_to_the_optimum(benchmark):
    # what personalize does when too few samples per class are held out to stop early on
    x, y = _embeddings()
    with threadpool_limits(1, "blas"):
        head = benchmark(lambda: SoftmaxHead().fit(x, y, 10))
    assert accuracy(head, x, y) > 0.9


@pytest.mark.benchmark(group="head")
def bench_head_sklearn_reference(benchmark):
    sklearn = pytest.importorskip("sklearn.linear_model")
    x, y = _embeddings()
    with threadpool_limits(1, "blas"):
        fitted = benchmark(lambda: sklearn.LogisticRegression(max_iter=300).fit(x[:400], y[:400]))
    assert fitted.score(x[400:], y[400:]) > 0.9
