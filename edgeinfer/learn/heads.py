"""Heads trained on frozen embeddings, in numpy only (the runtime has no
scipy): multinomial logistic regression, 1-nearest-neighbour by cosine
similarity, nearest class mean, and classes added to a base model's last
layer from their own samples alone. Each has fit(X, y, classes) and
scores(X) -> (N, classes) probabilities; onnx_head.py writes each as ONNX
nodes that compute the same scores.

The kNN and class-mean heads compare embeddings by cosine similarity after
subtracting the training mean ("centred cosine": ReLU features all point
into one orthant, and centring spreads them out), and turn similarities
into probabilities with a softmax at a fixed temperature (SCALE), so their
output is a probability row like the logistic head's.
"""
from __future__ import annotations

import numpy as np

SCALE = 10.0   # softmax temperature on cosine similarities in [-1, 1]


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _normalise(x):
    return x / np.sqrt((x * x).sum(axis=1, keepdims=True) + 1e-12)


def accuracy(head, X, y):
    return float(np.mean(head.scores(X).argmax(axis=1) == y)) if len(y) else float("nan")


class SoftmaxHead:
    """Multinomial logistic regression with weight decay on centred embeddings
    scaled by one overall standard deviation, by L-BFGS; `init` ((D, C0) weights, (C0,) bias) starts the first
    C0 classes from a base model's last layer, kept fixed unless `tune_init`."""
    kind = "softmax"

    def __init__(self, weight_decay=1e-2, max_iter=300, patience=15, init=None, tune_init=False):
        self.weight_decay = float(weight_decay)
        self.max_iter = int(max_iter)
        self.patience = int(patience)
        self.init = init
        self.tune_init = tune_init
        self.iterations = None

    def fit(self, X, y, classes, X_val=None, y_val=None):
        """Fits on (X, y); with a held-out (X_val, y_val), stops where its loss
        was lowest and keeps those weights. Returns self."""
        X = np.asarray(X, np.float64)
        self.mean = X.mean(axis=0)
        # one scale for every dimension, not one each: in a few samples many
        # embedding dimensions barely vary, and dividing by their tiny spread
        # let them outweigh the informative ones on new samples (EfficientNet-
        # Lite0 on 10 MNIST shots per digit: 75 % per dimension, 82 % overall)
        self.std = np.full(X.shape[1], X.std() + 1e-6)
        Xs = (X - self.mean) / self.std
        D = X.shape[1]
        start = np.zeros((D + 1, classes))
        frozen = np.zeros(classes, bool)
        if self.init is not None:
            # the base layer acts on raw embeddings: in standardised units it is
            # W * std, with the mean folded into the bias
            weights, bias = (np.asarray(a, np.float64) for a in self.init)
            old = weights.shape[1]
            start[:D, :old] = weights * self.std[:, None]
            start[D, :old] = bias + self.mean @ weights
            frozen[:old] = not self.tune_init
        # with fewer samples than dimensions the optimum lies in the span of
        # the samples (the weight decay leaves no reason to leave it): train
        # in coordinates of an orthonormal basis of that span, an n x n problem
        span = _sample_span(Xs)
        Z = span.coordinates if span is not None else Xs
        offset = Xs @ start[:D]
        Y = np.eye(classes)[y]
        val = None
        if X_val is not None and len(X_val):
            Xv = (np.asarray(X_val, np.float64) - self.mean) / self.std
            val = (span.project(Xv) if span is not None else Xv, Xv @ start[:D],
                   np.asarray(y_val))
        width = Z.shape[1]
        theta0 = np.zeros((width + 1, classes))
        theta0[width] = start[D]
        theta, self.iterations, self.val_loss = _lbfgs(
            lambda t: self._loss_grad(t, Z, offset, Y, frozen), theta0.ravel(), self.max_iter,
            self.patience, None if val is None else (lambda t: self._val_loss(t, *val)))
        theta = theta.reshape(width + 1, classes)
        weights = start[:D] + (span.lift(theta[:width]) if span is not None else theta[:width])
        # fold the standardisation into the weights: one Gemm on raw embeddings
        self.weights = (weights / self.std[:, None]).astype(np.float32)
        self.bias = (theta[width] - (self.mean / self.std) @ weights).astype(np.float32)
        return self

    def _loss_grad(self, theta, Z, offset, Y, frozen):
        width = Z.shape[1]
        theta = theta.reshape(width + 1, -1)
        W, b = theta[:width], theta[width]
        P = softmax(Z @ W + offset + b)
        n = len(Z)
        loss = -np.sum(Y * np.log(P + 1e-12)) / n + 0.5 * self.weight_decay * np.sum(W * W)
        diff = (P - Y) / n
        grad = np.empty_like(theta)
        grad[:width] = Z.T @ diff + self.weight_decay * W
        grad[width] = diff.sum(axis=0)
        grad[:, frozen] = 0.0
        return loss, grad.ravel()

    def _val_loss(self, theta, Z, offset, y):
        width = Z.shape[1]
        theta = theta.reshape(width + 1, -1)
        P = softmax(Z @ theta[:width] + offset + theta[width])
        return -np.mean(np.log(P[np.arange(len(y)), y] + 1e-12))

    def refit_kwargs(self):
        """Settings to refit on all samples for as many iterations as the
        held-out part chose."""
        return dict(weight_decay=self.weight_decay, max_iter=max(1, self.iterations),
                    init=self.init, tune_init=self.tune_init)

    def scores(self, X):
        return softmax(np.asarray(X, np.float64) @ self.weights + self.bias)


class _SampleSpan:
    """An orthonormal basis B = X^T A of the span of the rows of X (n, D), from
    the eigenvectors V and eigenvalues L of the n x n Gram matrix X X^T
    (A = V L^-1/2). B itself, a (D, r) matrix, is never formed: the samples'
    coordinates X B = V L^1/2 come from the eigenvectors alone, and vectors are
    taken to and from the basis through X."""

    def __init__(self, X, vectors, values):
        self.X = X
        self.A = vectors / np.sqrt(values)
        self.coordinates = vectors * np.sqrt(values)        # (n, r)

    def project(self, rows):
        """Coordinates of other rows in the basis: rows B."""
        return (rows @ self.X.T) @ self.A

    def lift(self, theta):
        """B theta, a (D, ...) matrix in embedding space."""
        return self.X.T @ (self.A @ theta)


def _sample_span(X):
    """A _SampleSpan of the rows when there are fewer rows than columns, else None."""
    n, dims = X.shape
    if n >= dims:
        return None
    values, vectors = np.linalg.eigh(X @ X.T)
    keep = values > 1e-9 * max(values.max(), 1e-30)
    return _SampleSpan(X, vectors[:, keep], values[keep])


def _lbfgs(loss_grad, x, max_iter, patience, val_loss=None, memory=10):
    """Minimises loss_grad (-> loss, gradient) by L-BFGS with a backtracking
    (Armijo) line search. With val_loss, returns the iterate where it was
    lowest and stops `patience` iterations after it last fell.
    Returns (x, iterations, best validation loss)."""
    f, g = loss_grad(x)
    s_list, y_list = [], []
    best = (val_loss(x), x.copy(), 0) if val_loss else None
    iteration = 0
    for iteration in range(1, max_iter + 1):
        q = g.copy()
        alphas = []
        for s, yv in zip(reversed(s_list), reversed(y_list)):
            rho = 1.0 / (yv @ s)
            a = rho * (s @ q)
            alphas.append((a, rho, s, yv))
            q -= a * yv
        if s_list:
            q *= (s_list[-1] @ y_list[-1]) / (y_list[-1] @ y_list[-1])
        else:
            q /= max(np.linalg.norm(g), 1e-12)
        for a, rho, s, yv in reversed(alphas):
            q += s * (a - rho * (yv @ q))
        direction = -q
        slope = g @ direction
        if slope >= 0:      # not a descent direction: restart from the gradient
            s_list, y_list = [], []
            direction, slope = -g, -(g @ g)
        step = 1.0
        while True:
            x_new = x + step * direction
            f_new, g_new = loss_grad(x_new)
            if f_new <= f + 1e-4 * step * slope or step < 1e-10:
                break
            step *= 0.5
        s, yv = x_new - x, g_new - g
        if s @ yv > 1e-10:
            s_list.append(s)
            y_list.append(yv)
            if len(s_list) > memory:
                s_list.pop(0)
                y_list.pop(0)
        converged = abs(f - f_new) <= 1e-9 * max(1.0, abs(f))
        x, f, g = x_new, f_new, g_new
        if best is not None:
            loss = val_loss(x)
            if loss < best[0]:
                best = (loss, x.copy(), iteration)
            elif iteration - best[2] >= patience:
                break
        if converged or np.max(np.abs(g)) < 1e-6:
            break
    if best is not None:
        return best[1], max(best[2], 1), best[0]
    return x, iteration, None


class KnnHead:
    """1-nearest neighbour by centred cosine similarity: a class scores its
    most similar stored embedding (so the argmax is the nearest neighbour's
    class); stored per class, padded by repeating a class's own samples so the
    ONNX graph can take a per-class max over a fixed-size axis."""
    kind = "knn"

    def fit(self, X, y, classes, X_val=None, y_val=None):
        X = np.asarray(X, np.float64)
        self.mean = X.mean(axis=0)
        unit = _normalise(X - self.mean)
        per_class = [unit[y == c] for c in range(classes)]
        width = max(len(p) for p in per_class)
        self.stored = np.stack([np.resize(p, (width, X.shape[1])) for p in per_class]) \
            .astype(np.float32)             # (classes, width, D)
        return self

    def similarities(self, X):
        unit = _normalise(np.asarray(X, np.float64) - self.mean)
        return np.einsum("nd,cwd->ncw", unit, self.stored).max(axis=2)

    def scores(self, X):
        return softmax(SCALE * self.similarities(X))


class NcmHead:
    """Nearest class mean by centred cosine similarity to each class's mean
    direction."""
    kind = "ncm"

    def fit(self, X, y, classes, X_val=None, y_val=None):
        X = np.asarray(X, np.float64)
        self.mean = X.mean(axis=0)
        unit = _normalise(X - self.mean)
        self.centres = _normalise(np.stack([unit[y == c].mean(axis=0)
                                            for c in range(classes)])).astype(np.float32)
        return self

    def scores(self, X):
        unit = _normalise(np.asarray(X, np.float64) - self.mean)
        return softmax(SCALE * unit @ self.centres.T.astype(np.float64))


class AddedClassesHead:
    """The base model's last layer unchanged, and a class added from its own
    samples alone: inside a ball around their mean it outscores the base's best
    class, and outside the ball it falls below it, so whatever does not look
    like the new samples gets the base model's answer as before.

    A class's score is best_base_score + SCALE * (1 - d^2 / r^2): d the
    distance to its mean, r the largest leave-one-out distance of one of its
    samples to the mean of the others — how far a new sample of it may fall.
    Without samples of the base classes there is nothing to learn a line
    against (a logistic row trained on the new samples alone outscores the base
    everywhere, as ReLU embeddings all lie on one side of it)."""
    kind = "added"

    def __init__(self, init):
        self.base_weights, self.base_bias = (np.asarray(a, np.float32) for a in init)

    def fit(self, X, y, classes, X_val=None, y_val=None):
        X = np.asarray(X, np.float64)
        first = self.base_weights.shape[1]
        centres, radii = [], []
        for c in range(first, classes):
            members = X[y == c]
            centre = members.mean(axis=0)
            n = len(members)
            others = (centre * n - members) / max(n - 1, 1)
            spread = np.sqrt(((members - others) ** 2).sum(axis=1)).max() if n > 1 else 0.0
            centres.append(centre)
            radii.append(max(spread, 1e-6 * max(np.sqrt((centre * centre).sum()), 1.0)))
        self.centres = np.asarray(centres, np.float32)          # (new classes, D)
        self.radii = np.asarray(radii, np.float32)
        return self

    def scores(self, X):
        X = np.asarray(X, np.float64)
        base = X @ self.base_weights + self.base_bias
        distances2 = ((X[:, None, :] - self.centres[None].astype(np.float64)) ** 2).sum(axis=2)
        added = base.max(axis=1, keepdims=True) + SCALE * (1 - distances2 / self.radii ** 2)
        return softmax(np.concatenate([base, added], axis=1))


HEADS = {"softmax": SoftmaxHead, "knn": KnnHead, "ncm": NcmHead}
