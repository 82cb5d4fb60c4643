"""Scores to labelled results: softmax, top-k, threshold, smoothing."""
import numpy as np
import pytest
import scipy.special
from hypothesis import given, strategies as st
from hypothesis.extra.numpy import arrays

from edgeinfer.run.postprocess import (Postprocessor, Prediction, ScoreSmoother,
                                   looks_like_probabilities, softmax, top_k)

finite = st.floats(-1e4, 1e4, allow_nan=False, width=32)


@given(arrays(np.float32, st.tuples(st.integers(1, 4), st.integers(1, 50)), elements=finite))
def test_softmax_matches_scipy_and_stays_finite(logits):
    ours = softmax(logits)
    assert np.all(np.isfinite(ours))
    np.testing.assert_allclose(ours, scipy.special.softmax(logits.astype(np.float64), axis=-1),
                               atol=1e-6)


@given(arrays(np.float32, st.integers(1, 40), elements=st.floats(0, 1, width=32)),
       st.integers(1, 50))
def test_top_k_is_the_k_highest_best_first(scores, k):
    labels = [f"l{i}" for i in range(scores.size)]
    result = top_k(scores, labels, k)
    assert len(result) == min(k, scores.size)
    expected = sorted(range(scores.size), key=lambda i: (-scores[i], i))[:k]
    assert [p.index for p in result] == expected
    assert all(p.label == labels[p.index] and p.score == float(scores[p.index]) for p in result)


def test_threshold_leaves_out_low_scores():
    scores = np.array([0.1, 0.6, 0.3], np.float32)
    result = top_k(scores, ["a", "b", "c"], k=3, threshold=0.25)
    assert [p.label for p in result] == ["b", "c"]
    assert top_k(scores, ["a", "b", "c"], k=3, threshold=0.9) == []


def test_labels_missing_fall_back_to_class_numbers():
    assert top_k(np.array([0.2, 0.8]), [], 1) == [Prediction("class 1", 1, pytest.approx(0.8))]


@given(st.integers(1, 6), st.lists(st.lists(st.floats(0, 1), min_size=3, max_size=3),
                                   min_size=1, max_size=15))
def test_smoothing_is_the_mean_of_the_last_n(n, rows):
    smoother = ScoreSmoother(n)
    for i, row in enumerate(rows):
        got = smoother.update(np.array(row, np.float32))
        window = np.array(rows[max(0, i + 1 - n):i + 1], np.float32)
        np.testing.assert_allclose(got, window.mean(axis=0), rtol=1e-5, atol=1e-6)


def test_smoothing_steadies_a_flickering_label():
    flicker = [np.array([0.6, 0.4]), np.array([0.45, 0.55])] * 4
    raw = Postprocessor(["a", "b"], top_k=1)
    smooth = Postprocessor(["a", "b"], top_k=1, smoothing=4)
    assert {raw(s)[0].label for s in flicker} == {"a", "b"}
    assert {smooth(s)[0].label for s in flicker[2:]} == {"a"}


def test_probabilities_are_recognised():
    assert looks_like_probabilities(softmax(np.array([[1.0, 2.0, 3.0]])))
    assert not looks_like_probabilities(np.array([[1.0, 2.0, 3.0]]))
    assert not looks_like_probabilities(np.array([[-0.5, 1.5]]))


@pytest.mark.parametrize("kwargs", [dict(top_k=0), dict(threshold=1.5), dict(smoothing=0)])
def test_postprocessor_rejects_bad_settings(kwargs):
    with pytest.raises(ValueError):
        Postprocessor(["a"], **kwargs)


def test_postprocessor_decides_logits_or_probabilities():
    logits = np.array([[2.0, 0.0, -1.0]], np.float32)
    expected = softmax(logits)[0]
    for output in ("logits", None):  # None: told apart by the scores themselves
        got = Postprocessor(["a", "b", "c"], top_k=3, output=output)(logits)
        np.testing.assert_allclose([p.score for p in got], expected, rtol=1e-6)
    given = softmax(logits)
    for output in ("probabilities", None):
        got = Postprocessor(["a", "b", "c"], top_k=3, output=output)(given)
        np.testing.assert_allclose([p.score for p in got], given[0], rtol=1e-6)
    # a model that says it gives logits is softmaxed even when a row happens to sum to 1
    flat = np.array([[0.5, 0.5, 0.0]], np.float32)
    got = Postprocessor(["a", "b", "c"], top_k=1, output="logits")(flat)
    assert got[0].score == pytest.approx(softmax(flat)[0, 0])
