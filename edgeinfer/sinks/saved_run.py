"""--save [DIR]: a run's results where people look for them, as Ultralytics
lays them out: a new numbered folder (runs/predict, runs/predict-2, ...) with
an annotated copy of each image under its own name, or the annotated video
of a video, camera or stream, and the JSON lines beside them. Each image is
written whole (atomically) and each line flushed as it comes, so a stopped
run keeps everything it finished."""
from __future__ import annotations

import os

from ..errors import UserError
from .jsonl import JsonLinesSink
from .output_files import atomic_write
from .overlay import VideoFileSink, draw_overlay

RUN_NAME = "predict"
RESULTS_FILE = "predictions.jsonl"


def new_run_folder(parent, name=RUN_NAME):
    """Makes and returns parent/name, or name-2, name-3 ... : the first that is
    free (made with mkdir, so two runs at once never share one)."""
    try:
        os.makedirs(parent, exist_ok=True)
    except OSError as error:
        raise UserError(f"--save cannot make folder {parent}: {error.strerror}") from None
    if not os.path.isdir(parent):
        raise UserError(f"--save {parent} is a file: give a folder for the runs")
    number = 1
    while True:
        folder = os.path.join(parent, name if number == 1 else f"{name}-{number}")
        try:
            os.mkdir(folder)
            return folder
        except FileExistsError:
            number += 1
        except OSError as error:
            raise UserError(f"--save cannot make folder {folder}: {error.strerror}") from None


class SavedRunSink:
    """Writes into `folder`: every classified image file annotated, under its
    own name (name-2.jpg for a second file of the same name); every frame of
    any other source into one annotated video, `video_name`; every result as
    a JSON line in predictions.jsonl."""

    def __init__(self, folder, video_name="video.mp4", fps=None):
        self.folder = folder
        self.results = JsonLinesSink(os.path.join(folder, RESULTS_FILE))
        self.video_path = os.path.join(folder, video_name)
        self.fps = fps
        self.video = None
        self.images = 0
        self._names = set()

    def write(self, item, result):
        if getattr(item, "path", None):
            if result is not None:
                self._save_image(item, result)
        elif hasattr(item, "image"):  # a frame of a video, camera or stream; not a sensor window
            if self.video is None:
                self.video = VideoFileSink(self.video_path, self.fps)
            self.video.write(item, result)
        return self.results.write(item, result)

    def _save_image(self, frame, result):
        import cv2

        path = self._free_name(os.path.basename(frame.path))
        ok, encoded = False, None
        try:
            ok, encoded = cv2.imencode(os.path.splitext(path)[1], draw_overlay(
                frame.image.copy(), result))
        except cv2.error:
            pass
        if not ok:  # a format OpenCV reads but cannot write: the copy becomes a JPEG
            path = self._free_name(os.path.splitext(os.path.basename(frame.path))[0] + ".jpg")
            ok, encoded = cv2.imencode(".jpg", draw_overlay(frame.image.copy(), result))
        try:
            atomic_write(path, lambda f: f.write(encoded.tobytes()))
        except OSError as error:
            raise UserError(f"cannot write {path}: {error.strerror}; the images before it are "
                            "complete") from None
        self.images += 1

    def _free_name(self, name):
        stem, ext = os.path.splitext(name)
        number = 1
        while name in self._names:
            number += 1
            name = f"{stem}-{number}{ext}"
        self._names.add(name)
        return os.path.join(self.folder, name)

    def close(self):
        try:
            if self.video is not None:
                self.video.close()
        finally:
            self.results.close()
