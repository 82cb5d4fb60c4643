"""A sliding window over a stream of multi-channel samples: push samples as
they arrive, get a model input every `hop` samples once `window` have come.

Windows are normalised per channel ((x - mean) / std) and laid out as the
model wants: "ncw" -> (1, channels, window), "nwc" -> (1, window, channels),
"flat" -> (1, window * channels) in time-major order (each sample's channels
together), which is what a Dense layer after Flatten of (window, channels) sees.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

LAYOUTS = ("ncw", "nwc", "flat")


@dataclass
class Window:
    tensor: np.ndarray       # the model input, float32, layout as asked
    index: int               # windows emitted before this one
    first_sample: int        # stream index of the window's first sample
    first_time: Optional[float]
    last_time: Optional[float]


class SensorWindow:
    def __init__(self, window, hop, channels, mean=None, std=None, layout="ncw",
                 sample_rate=None, gap_factor=1.5):
        window, hop, channels = int(window), int(hop), int(channels)
        if window < 1 or hop < 1 or channels < 1:
            raise ValueError(f"window, hop and channels must be positive, got {window}, {hop}, "
                             f"{channels}")
        if layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")
        self.window, self.hop, self.channels, self.layout = window, hop, channels, layout
        self.mean = self._per_channel("mean", 0.0 if mean is None or len(mean) == 0 else mean)
        self.std = self._per_channel("std", 1.0 if std is None or len(std) == 0 else std)
        if np.any(self.std <= 0):
            raise ValueError(f"std must be positive, got {self.std.tolist()}")
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
        self._last_time = None

    def _per_channel(self, name, value):
        values = np.asarray(value, np.float32).ravel()
        if values.size == 1:
            values = np.repeat(values, self.channels)
        if values.size != self.channels:
            raise ValueError(f"{name} needs 1 or {self.channels} values, got {values.size}")
        return values

    def restart(self):
        """Forgets the partial window (after a gap, so no window spans one)."""
        self._filled = 0
        self._since_emit = 0
        self._fresh = True

    def push(self, values, time=None):
        """Adds one sample; returns a Window when one is complete, else None.
        A timestamp gap longer than gap_factor sample periods restarts the
        window and is counted in `gaps`."""
        if self.gap_seconds is not None and time is not None and self._last_time is not None \
                and time - self._last_time > self.gap_seconds:
            self.gaps += 1
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
        samples = (self._ring[start:self._end] - self.mean) / self.std
        times = self._times[start:self._end]
        window = Window(tensor=self._layout(samples), index=self.windows,
                        first_sample=self.samples - self.window,
                        first_time=None if np.isnan(times[0]) else float(times[0]),
                        last_time=None if np.isnan(times[-1]) else float(times[-1]))
        self.windows += 1
        return window

    def _layout(self, samples):
        if self.layout == "ncw":
            return np.ascontiguousarray(samples.T)[None]
        if self.layout == "nwc":
            return np.ascontiguousarray(samples)[None]
        return np.ascontiguousarray(samples).reshape(1, -1)


def window_starts(samples, window, hop):
    """Stream indices where SensorWindow's windows begin, for `samples` samples
    without gaps: the arithmetic the class must follow, stated plainly."""
    if samples < window:
        return []
    return list(range(0, samples - window + 1, hop))
