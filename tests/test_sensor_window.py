"""SlidingWindow's windowing, hop arithmetic, normalisation, layouts and gap
handling against plain slicing of the whole stream."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from edgeinfer.sensor.window import SlidingWindow, window_tensor


def window_starts(samples, window, hop):
    """Stream indices where SlidingWindow's windows begin, for `samples` samples
    without gaps: the arithmetic the class must follow, stated plainly."""
    if samples < window:
        return []
    return list(range(0, samples - window + 1, hop))


def push_all(windower, samples, times=None):
    out = []
    for i, sample in enumerate(samples):
        window = windower.push(sample, None if times is None else times[i])
        if window is not None:
            out.append(window)
    return out


@given(samples=st.integers(0, 120), window=st.integers(1, 30), hop=st.integers(1, 40),
       channels=st.integers(1, 6), layout=st.sampled_from(["ncw", "nwc", "flat"]),
       seed=st.integers(0, 2**16))
def test_windows_are_slices_of_the_stream(samples, window, hop, channels, layout, seed):
    rng = np.random.default_rng(seed)
    stream = rng.normal(size=(samples, channels)).astype(np.float32)
    mean = rng.normal(size=channels)
    std = rng.uniform(0.5, 3, size=channels)
    windows = push_all(SlidingWindow(window, hop, channels), stream)
    starts = window_starts(samples, window, hop)
    assert [w.first_sample for w in windows] == starts
    for w, start in zip(windows, starts):
        np.testing.assert_array_equal(w.samples, stream[start:start + window])
        tensor = window_tensor(w.samples, mean, std, layout)
        expected = (stream[start:start + window] - mean.astype(np.float32)) / std.astype(np.float32)
        if layout == "ncw":
            expected = expected.T[None]
        elif layout == "nwc":
            expected = expected[None]
        else:  # time-major: sample 0's channels, then sample 1's, ...
            expected = np.concatenate(list(expected))[None]
        assert tensor.shape == expected.shape and tensor.dtype == np.float32
        np.testing.assert_allclose(tensor, expected, rtol=1e-6, atol=1e-6)


def test_window_times_are_first_and_last_sample():
    stream = np.arange(20, dtype=np.float32)[:, None]
    times = 100.0 + 0.1 * np.arange(20)
    windows = push_all(SlidingWindow(5, 5, 1), stream, times)
    assert [(w.first_time, w.last_time) for w in windows] == \
        [(times[i], times[i + 4]) for i in (0, 5, 10, 15)]


def test_gap_restarts_the_window_and_is_counted():
    stream = np.ones((30, 2), np.float32)
    times = np.concatenate([np.arange(12) * 0.1, 5.0 + np.arange(18) * 0.1])
    windower = SlidingWindow(10, 10, 2, sample_rate=10.0)
    windows = push_all(windower, stream, times)
    assert windower.gaps == 1
    assert [w.first_sample for w in windows] == [0, 12]  # no window spans the gap
    assert all(w.last_time - w.first_time == pytest.approx(0.9) for w in windows)


@pytest.mark.parametrize("sample_rate", [10.0, None])
def test_timestamps_going_backwards_restart_the_window(sample_rate):
    # a logger restarted: its clock starts again from 0.3 after 1.0
    times = np.concatenate([np.arange(11) * 0.1, 0.3 + np.arange(10) * 0.1])
    stream = np.arange(21, dtype=np.float32)[:, None]
    windower = SlidingWindow(5, 5, 1, sample_rate=sample_rate)
    windows = push_all(windower, stream, times)
    assert windower.gaps == 1 and windower.last_gap == (pytest.approx(1.0), pytest.approx(0.3))
    assert [w.first_sample for w in windows] == [0, 5, 11, 16]  # none spans the jump back
    assert all(w.last_time > w.first_time for w in windows)


def test_equal_timestamps_are_not_a_gap():
    windower = SlidingWindow(4, 4, 1, sample_rate=10.0)
    windows = push_all(windower, np.ones((8, 1), np.float32), [0.0, 0.0, 0.1, 0.1, 0.2, 0.2,
                                                                0.3, 0.3])
    assert windower.gaps == 0 and len(windows) == 2


def test_bad_window_arguments():
    with pytest.raises(ValueError, match="must be positive"):
        SlidingWindow(window=0, hop=1, channels=3)


@pytest.mark.parametrize("kwargs,message", [
    (dict(layout="cnw"), "layout must be one of"),
    (dict(mean=(1, 2)), "mean needs 1 or 3"),
    (dict(std=(1, 0, 1)), "std must be positive"),
    (dict(out=np.zeros((1, 4, 3), np.float32)), "out has shape"),
])
def test_bad_tensor_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        window_tensor(np.zeros((4, 3), np.float32), **kwargs)
