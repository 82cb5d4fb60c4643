"""Composes a short video from the photographs bundled with edgeinfer
(scikit-image's chelsea, a tabby cat, and coffee, a cup of espresso): a slow
pan across each photo in turn, as a camera sweeping over a scene would see it.

    python tools/sample_clip.py out/sample.mp4 [--size 640x480] [--seconds 3] [--fps 15]

Importable: write_clip() returns which photo each frame shows, so tests can
check the labels a model gives against what is really in the frame.
"""
import argparse
import os
import sys

import cv2
import numpy as np

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "edgeinfer",
                        "data")
PHOTOS = ("chelsea", "coffee")
FOURCC = {".mp4": "mp4v", ".avi": "MJPG", ".mkv": "MJPG"}


def photo(name):
    return cv2.imread(os.path.join(DATA_DIR, f"{name}.jpg"), cv2.IMREAD_COLOR)


def pan(image, frames, size, zoom=0.85):
    """`frames` views of image, each a window with the output's aspect ratio
    covering `zoom` of the largest one that fits, moving from left to right."""
    out_w, out_h = size
    height, width = image.shape[:2]
    fit = min(height / out_h, width / out_w) * zoom
    win_h, win_w = int(out_h * fit), int(out_w * fit)
    top = (height - win_h) // 2
    for i in range(frames):
        left = int(round((width - win_w) * i / max(1, frames - 1)))
        window = image[top:top + win_h, left:left + win_w]
        yield cv2.resize(window, (out_w, out_h), interpolation=cv2.INTER_AREA)


def clip_frames(size=(640, 480), frames_per_photo=45, photos=PHOTOS):
    """(frame, photo name) pairs: a pan across each photo in turn."""
    for name in photos:
        for frame in pan(photo(name), frames_per_photo, size):
            yield frame, name


def write_clip(path, size=(640, 480), frames_per_photo=45, fps=15.0, photos=PHOTOS):
    """Writes the clip; returns the photo name shown in each frame, in order."""
    ext = os.path.splitext(path)[1].lower()
    if ext not in FOURCC:
        raise ValueError(f"write a {', '.join(FOURCC)} file, not {ext or 'no extension'}")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*FOURCC[ext]), fps, tuple(size))
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {path}")
    shown = []
    try:
        for frame, name in clip_frames(size, frames_per_photo, photos):
            writer.write(np.ascontiguousarray(frame))
            shown.append(name)
    finally:
        writer.release()
    return shown


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", default=os.path.join("out", "sample.mp4"))
    parser.add_argument("--size", default="640x480", help="WIDTHxHEIGHT")
    parser.add_argument("--seconds", type=float, default=3.0, help="per photo")
    parser.add_argument("--fps", type=float, default=15.0)
    args = parser.parse_args(argv)
    size = tuple(int(v) for v in args.size.lower().split("x"))
    shown = write_clip(args.path, size, int(round(args.seconds * args.fps)), args.fps)
    print(f"wrote {args.path}: {len(shown)} frames, {size[0]}x{size[1]} at {args.fps:g} fps "
          f"({', '.join(PHOTOS)})")


if __name__ == "__main__":
    sys.exit(main())
