"""The labelled samples `edgeinfer eval` runs every model on: a folder per
class (as samples.py reads them for personalize), or, for sensor models, one
labelled sensor CSV — a sample stream with a header of channel names and a
column naming each sample's class, cut into the model's windows.

A sample is addressed by an item (a file path, or "CSV#window" for a window
of a labelled stream) so that the local and the Ray run can name, read and
order the same samples the same way.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from ..errors import UserError
from ..sensor.stream import is_number
from .samples import list_samples, read_image_sample, read_window_sample


@dataclass
class TestSet:
    root: str            # the folder or the labelled CSV
    kind: str            # "image" or "sensor"
    classes: list        # class names, sorted
    items: list          # one per sample: a file path, or (csv path, first sample index)
    labels: np.ndarray   # index into classes, one per item

    def name_of(self, i):
        """How reports name sample i: its path under the test folder, or CSV@sample."""
        item = self.items[i]
        if isinstance(item, tuple):
            return f"{os.path.basename(item[0])}@{item[1]}"
        return os.path.relpath(item, self.root)


def open_test_set(root, kind, sensor=None, label_column=None):
    """The test set at root: a folder per class, or (sensor models) a labelled CSV."""
    if kind == "sensor" and os.path.isfile(root):
        return _labelled_csv(root, sensor, label_column)
    if kind == "image" and os.path.isfile(root):
        raise UserError(f"test data {root} is a file: image models are evaluated on a folder "
                        "holding one sub-folder of images per class")
    files = list_samples(root, kind)
    return TestSet(root, kind, files.classes, list(files.paths), files.labels)


class SampleReader:
    """Reads a test set's items as frames or (window, channels) arrays in a
    model's channel order; a labelled CSV is parsed once."""

    def __init__(self, sensor=None, label_column=None):
        self.sensor = sensor
        self.label_column = label_column
        self._streams = {}

    def read(self, item):
        if isinstance(item, tuple):
            path, start = item
            if path not in self._streams:
                self._streams[path] = _read_stream(path, self.sensor.channels, self.label_column)
            values = self._streams[path][0]
            return values[start:start + int(self.sensor.window)].astype(np.float32)
        if self.sensor is None:
            return read_image_sample(item)
        return read_window_sample(item, self.sensor)


def _labelled_csv(path, sensor, label_column):
    values, labels = _read_stream(path, sensor.channels, label_column)
    window, hop = int(sensor.window), int(sensor.hop)
    items, names = [], []
    # windows never straddle a change of class: each run of one label is cut on its own
    change = np.flatnonzero(labels[1:] != labels[:-1]) + 1
    for begin, end in zip(np.r_[0, change], np.r_[change, len(labels)]):
        # where a run's windows begin, as SlidingWindow cuts a stream without gaps
        for start in range(0, int(end - begin) - window + 1, hop):
            items.append((path, int(begin + start)))
            names.append(labels[begin])
    if not items:
        raise UserError(f"test data {path} has no run of one class as long as the model's "
                        f"window ({window} samples): record longer stretches of each class")
    classes = sorted(set(names))
    return TestSet(path, "sensor", classes, items,
                   np.asarray([classes.index(n) for n in names], np.int64))


def _read_stream(path, channels, label_column):
    """(samples, channels) float64 values in the model's channel order and each
    sample's label, from a CSV with a header row."""
    try:
        with open(path, encoding="utf-8-sig") as f:
            rows = [line.strip() for line in f if line.strip()]
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(f"test data {path} cannot be read ({error})") from None
    header = [h.strip().lower() for h in rows[0].split(",")] if rows else []
    wanted = [c.lower() for c in channels]
    missing = [c for c in wanted if c not in header]
    if missing:
        raise UserError(f"test data {path} has columns {', '.join(header) or '(none)'}, the "
                        f"model needs {', '.join(wanted)} (missing {', '.join(missing)}): "
                        "rename the header")
    label = _label_column(path, header, rows[1:2], wanted, label_column)
    columns = [header.index(c) for c in wanted]
    values, labels = [], []
    for number, row in enumerate(rows[1:], start=2):
        fields = [v.strip() for v in row.split(",")]
        try:
            values.append([float(fields[c]) for c in columns])
            labels.append(fields[label])
        except (ValueError, IndexError):
            raise UserError(f"test data {path} line {number} is not {len(header)} fields with "
                            f"numbers in {', '.join(wanted)}: fix or delete it") from None
    return np.asarray(values, np.float64).reshape(-1, len(wanted)), np.asarray(labels)


def _label_column(path, header, first_rows, channels, given):
    if given:
        if given.lower() not in header:
            raise UserError(f"test data {path} has no column {given!r} (its columns: "
                            f"{', '.join(header)}): name the class column with --label-column")
        return header.index(given.lower())
    # the class column is the one column holding words
    first = first_rows[0].split(",") if first_rows else []
    words = [i for i, v in enumerate(first) if i < len(header) and header[i] not in channels
             and not is_number(v)]
    if len(words) != 1:
        raise UserError(f"test data {path}: cannot tell which column names each sample's class "
                        f"(columns: {', '.join(header)}): name it with --label-column")
    return words[0]
