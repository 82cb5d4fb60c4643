"""A sliding window over a stream of multi-channel samples: push samples as
they arrive, get a SensorWindow (window x channels) every `hop` samples once
`window` have come. SensorWindow is what a sensor source delivers to the run,
as an image source delivers a Frame.

window_tensor() then turns a window into a model input: normalised per
channel ((x - mean) / std) and laid out as the model wants: "ncw" ->
(1, channels, window), "nwc" -> (1, window, channels), "flat" ->
(1, window * channels) in time-major order (each sample's channels together),
which is what a Dense layer after Flatten of (window, channels) sees.
"""
from __future__ import annotations

import time as clock
from dataclasses import dataclass
from typing import Optional

import numpy as np

LAYOUTS = ("ncw", "nwc", "flat")


@dataclass
class SensorWindow:
    """One window of a sensor stream, ready for a sensor model."""
    samples: np.ndarray      # (window, channels) float32 in the model's channel order, as they came
    index: int               # windows emitted before this one
    first_sample: int        # stream index of the window's first sample
    first_time: Optional[float]  # the stream's timestamps of its first and last sample, if it has them
    last_time: Optional[float]
    captured: float = 0.0    # time.monotonic() when its last sample completed it
    wall_time: float = 0.0   # time.time() at the same moment


def per_channel(name, value, channels):
    """One value per channel from None/() (the default), one number, or a sequence."""
    values = np.asarray(value, np.float32).ravel()
    if values.size == 1:
        values = np.repeat(values, channels)
    if values.size != channels:
        raise ValueError(f"{name} needs 1 or {channels} values, got {values.size}")
    return values


def window_tensor(samples, mean=None, std=None, layout="ncw", out=None):
    """A (window, channels) window as a model input tensor with a batch axis of 1."""
    samples = np.asarray(samples, np.float32)
    if samples.ndim != 2:
        raise ValueError(f"a window is (samples, channels), got shape {samples.shape}")
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")
    channels = samples.shape[1]
    mean = per_channel("mean", 0.0 if mean is None or len(mean) == 0 else mean, channels)
    std = per_channel("std", 1.0 if std is None or len(std) == 0 else std, channels)
    if np.any(std <= 0):
        raise ValueError(f"std must be positive, got {std.tolist()}")
    normalised = (samples - mean) / std
    if layout == "ncw":
        shaped = normalised.T[None]
    elif layout == "nwc":
        shaped = normalised[None]
    else:
        shaped = normalised.reshape(1, -1)
    if out is None:
        return np.ascontiguousarray(shaped)
    if out.shape != shaped.shape:
        raise ValueError(f"out has shape {out.shape}, the window makes {shaped.shape}")
    out[...] = shaped
    return out


class SlidingWindow:
    def __init__(self, window, hop, channels, sample_rate=None, gap_factor=1.5):
        window, hop, channels = int(window), int(hop), int(channels)
        if window < 1 or hop < 1 or channels < 1:
            raise ValueError(f"window, hop and channels must be positive, got {window}, {hop}, "
                             f"{channels}")
        self.window, self.hop, self.channels = window, hop, channels
        self.sample_rate = sample_rate
        self.gap_seconds = gap_factor / sample_rate if sample_rate else None
        # twice the window, so a full window is always one contiguous slice
        self._ring = np.zeros((2 * window, channels), np.float32)
        self._times = np.full(2 * window, np.nan)
        self._filled = 0          # valid samples at the end of the ring
        self._end = 0             # where the next sample goes
        self._since_emit = 0
        self._fresh = True        # the next full window is the first since a (re)start
        self.samples = 0          # samples pushed since the start
        self.windows = 0
        self.gaps = 0
        self.last_gap = None      # (time before, time after) of the latest gap
        self._last_time = None

    def restart(self):
        """Forgets the partial window (after a gap, so no window spans one)."""
        self._filled = 0
        self._since_emit = 0
        self._fresh = True

    def push(self, values, time=None):
        """Adds one sample; returns a SensorWindow when one is complete, else None.
        A timestamp gap longer than gap_factor sample periods, or a timestamp
        earlier than the one before (a logger restarted, a clock reset),
        restarts the window and is counted in `gaps`; `last_gap` holds the
        two times around it."""
        if time is not None and self._last_time is not None and (
                time < self._last_time
                or (self.gap_seconds is not None and time - self._last_time > self.gap_seconds)):
            self.gaps += 1
            self.last_gap = (self._last_time, time)
            self.restart()
        self._last_time = time
        if self._end == len(self._ring):  # slide the newest window-1 samples to the front
            keep = self.window - 1
            self._ring[:keep] = self._ring[self._end - keep:self._end]
            self._times[:keep] = self._times[self._end - keep:self._end]
            self._end = keep
        self._ring[self._end] = values
        self._times[self._end] = np.nan if time is None else time
        self._end += 1
        self._filled = min(self._filled + 1, self.window)
        self.samples += 1
        self._since_emit += 1
        if self._filled < self.window or not (self._fresh or self._since_emit >= self.hop):
            return None
        self._fresh = False
        self._since_emit = 0
        start = self._end - self.window
        times = self._times[start:self._end]
        window = SensorWindow(samples=self._ring[start:self._end].copy(), index=self.windows,
                              first_sample=self.samples - self.window,
                              first_time=None if np.isnan(times[0]) else float(times[0]),
                              last_time=None if np.isnan(times[-1]) else float(times[-1]),
                              captured=clock.monotonic(), wall_time=clock.time())
        self.windows += 1
        return window
