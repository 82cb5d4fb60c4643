"""Saving labelled samples into a folder per class: DATA/<label>/0001.png for
frames, DATA/<label>/0001.csv (a header of channel names, one sample per row)
for sensor windows. Numbering continues after the highest number already in
the folder, so a folder is only ever added to; each file is written to a
temporary name and renamed, so an interrupted collect leaves every sample it
finished and no partial one."""
from __future__ import annotations

import io
import os
import re

import numpy as np

from ..errors import UserError
from ..sinks.output_files import atomic_write

NUMBERED = re.compile(r"^(\d+)\.[A-Za-z0-9]+$")


def check_label(label):
    if not label or label.strip() != label or label.startswith(".") or \
            any(c in label for c in '/\\\0'):
        raise UserError(f"label {label!r} cannot be a folder name: use letters, digits, spaces, "
                        "'-' or '_' (no '/', no leading '.' or spaces)")
    return label


class ClassFolder:
    """DATA/<label>/, written to from the next free number on."""

    def __init__(self, root, label):
        self.folder = os.path.join(root, check_label(label))
        if os.path.exists(self.folder) and not os.path.isdir(self.folder):
            raise UserError(f"{self.folder} is a file, not a class folder: choose another "
                            "--data folder or label")
        try:
            os.makedirs(self.folder, exist_ok=True)
        except OSError as error:
            raise UserError(f"cannot make class folder {self.folder}: {error.strerror}") from None
        numbers = [int(m.group(1)) for m in map(NUMBERED.match, os.listdir(self.folder)) if m]
        self.next_number = max(numbers, default=0) + 1
        self.saved = []

    def _path(self, extension):
        while True:
            path = os.path.join(self.folder, f"{self.next_number:04d}{extension}")
            self.next_number += 1
            if not os.path.exists(path):
                return path

    def save_image(self, frame):
        from ..opencv_io import quiet_cv2

        ok, encoded = quiet_cv2().imencode(".png", frame)
        if not ok:
            raise UserError(f"cannot encode a frame of shape {frame.shape} as PNG")
        path = self._path(".png")
        atomic_write(path, lambda f: f.write(encoded.tobytes()))
        self.saved.append(path)
        return path

    def save_window(self, samples, channels):
        text = io.StringIO()
        text.write(",".join(channels) + "\n")
        np.savetxt(text, np.asarray(samples, np.float32), delimiter=",", fmt="%.7g")
        path = self._path(".csv")
        atomic_write(path, lambda f: f.write(text.getvalue().encode()))
        self.saved.append(path)
        return path


def collect(source, folder, count=None, every=1, channels=None, progress=None):
    """Saves every `every`th frame (or sensor window, when `channels` names its
    columns) of a started source into folder, until `count` are saved or the
    source ends. Returns the number saved; on Ctrl-C what is saved stays."""
    seen = 0
    while count is None or len(folder.saved) < count:
        item = source.read(timeout=0.1)
        if item is None:
            if source.finished:
                break
            continue
        seen += 1
        if (seen - 1) % every:
            continue
        if channels is not None:
            path = folder.save_window(item.samples, channels)
        else:
            path = folder.save_image(item.image)
        if progress is not None:
            progress(len(folder.saved), count, path)
    return len(folder.saved)
