"""A folder of labelled samples, one sub-folder per class (DATA/mug/0001.png,
DATA/walking/0001.csv), as `edgeinfer collect`, Keras'
image_dataset_from_directory and Teachable Machine exports lay them out.

Images are any file OpenCV reads; sensor windows are .csv files with a header
row of channel names (as collect writes them) or .npy arrays of (samples,
channels) in the model's channel order. Every file must be usable: an empty
or unreadable one, or a window of another size, is refused naming the file,
so a model is never trained on less than the user thinks.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from ..errors import UserError
from ..sources.images import IMAGE_EXTENSIONS

WINDOW_EXTENSIONS = (".csv", ".npy")


@dataclass
class LabelledFiles:
    root: str
    classes: list          # class names, sorted
    paths: list            # sample files
    labels: np.ndarray     # index into classes, one per path

    def counts(self):
        return {name: int(np.sum(self.labels == i)) for i, name in enumerate(self.classes)}


def list_samples(root, kind):
    """The class folders under root and their sample files; kind "image" or "sensor"."""
    extensions = IMAGE_EXTENSIONS if kind == "image" else WINDOW_EXTENSIONS
    what = "images" if kind == "image" else "sensor windows (.csv or .npy)"
    if not os.path.isdir(root):
        raise UserError(f"data folder {root} does not exist: give a folder holding one "
                        "sub-folder of samples per class (make them with `edgeinfer collect`)")
    classes = sorted(name for name in os.listdir(root)
                     if os.path.isdir(os.path.join(root, name)) and not name.startswith("."))
    if not classes:
        raise UserError(f"data folder {root} has no class folders: put each class's {what} in "
                        f"{os.path.join(root, '<label>')}/")
    paths, labels = [], []
    for index, name in enumerate(classes):
        folder = os.path.join(root, name)
        found = sorted(os.path.join(folder, f) for f in os.listdir(folder)
                       if f.lower().endswith(extensions) and not f.startswith(".")
                       and os.path.isfile(os.path.join(folder, f)))
        if not found:
            raise UserError(f"class folder {folder} has no {what}: add some (`edgeinfer "
                            "collect`) or remove the folder")
        paths += found
        labels += [index] * len(found)
    return LabelledFiles(root, classes, paths, np.asarray(labels, np.int64))


def read_image_sample(path):
    """A BGR uint8 frame, or a UserError naming the file."""
    from ..opencv_io import quiet_cv2

    cv2 = quiet_cv2()
    if os.path.getsize(path) == 0:
        raise UserError(f"sample {path} is empty: delete it or collect it again")
    frame = cv2.imread(path, cv2.IMREAD_COLOR)
    if frame is None:
        raise UserError(f"sample {path} is not an image OpenCV can read: delete it or replace "
                        "it with a PNG or JPEG")
    return frame


def read_window_sample(path, sensor):
    """A (window, channels) float32 array in the model's channel order, or a
    UserError naming the file."""
    window, channels = int(sensor.window), [c.lower() for c in sensor.channels]
    if os.path.getsize(path) == 0:
        raise UserError(f"sample {path} is empty: delete it or collect it again")
    if path.lower().endswith(".npy"):
        try:
            values = np.load(path, allow_pickle=False)
        except (ValueError, OSError) as error:
            raise UserError(f"sample {path} is not a readable .npy array ({error}): delete it "
                            "or collect it again") from None
    else:
        values = _read_window_csv(path, channels)
    values = np.asarray(values)
    if values.shape != (window, len(channels)) or values.dtype.kind not in "fiu":
        raise UserError(f"sample {path} holds {values.dtype} {values.shape}, the model takes "
                        f"{window} samples x {len(channels)} channels ({', '.join(channels)}): "
                        "collect windows with the model's settings (`edgeinfer collect --model "
                        "BASE.onnx --sensor ...`)")
    if not np.all(np.isfinite(values)):
        raise UserError(f"sample {path} holds NaN or infinite values: delete it or collect it "
                        "again")
    return values.astype(np.float32)


def _read_window_csv(path, channels):
    try:
        with open(path, encoding="utf-8") as f:
            rows = [line.strip() for line in f if line.strip()]
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(f"sample {path} cannot be read ({error}): delete it or collect it "
                        "again") from None
    header = [h.strip().lower() for h in rows[0].split(",")] if rows else []
    missing = [c for c in channels if c not in header]
    if missing:
        raise UserError(f"sample {path} has columns {', '.join(header) or '(none)'}, the model "
                        f"needs {', '.join(channels)} (missing {', '.join(missing)}): rename the "
                        "header or collect with the model's channels")
    columns = [header.index(c) for c in channels]
    try:
        table = np.array([[float(v) for v in row.split(",")] for row in rows[1:]], np.float64)
        return table[:, columns] if len(table) else np.zeros((0, len(channels)))
    except (ValueError, IndexError):
        raise UserError(f"sample {path} has a line that is not {len(header)} numbers: delete "
                        "it or collect it again") from None


def augmented(frame, rng):
    """A light, seeded variation of a frame: maybe mirrored, cropped to 85-100 %
    of each side at a random place, brightness scaled by 0.8-1.2."""
    if rng.random() < 0.5:
        frame = frame[:, ::-1]
    height, width = frame.shape[:2]
    keep_h = max(1, int(round(height * rng.uniform(0.85, 1.0))))
    keep_w = max(1, int(round(width * rng.uniform(0.85, 1.0))))
    top = int(rng.integers(0, height - keep_h + 1))
    left = int(rng.integers(0, width - keep_w + 1))
    frame = frame[top:top + keep_h, left:left + keep_w].astype(np.float32)
    frame *= rng.uniform(0.8, 1.2)
    return np.ascontiguousarray(np.clip(frame, 0, 255).astype(np.uint8))


def augmented_window(window, rng):
    """A light, seeded variation of a (samples, channels) sensor window: a
    stretch of 80-100 % of it resampled to the whole length (the same motion a
    little faster), each channel's gain scaled by 0.9-1.1, and noise of 5 % of
    each channel's spread."""
    length, channels = window.shape
    keep = max(2, int(round(length * rng.uniform(0.8, 1.0))))
    start = int(rng.integers(0, length - keep + 1))
    part = window[start:start + keep].astype(np.float64)
    grid = np.linspace(0, keep - 1, length)
    stretched = np.stack([np.interp(grid, np.arange(keep), part[:, c]) for c in range(channels)],
                         axis=1)
    stretched *= rng.uniform(0.9, 1.1, size=(1, channels))
    stretched += rng.normal(0, 0.05, size=stretched.shape) * window.std(axis=0, keepdims=True)
    return stretched.astype(np.float32)
