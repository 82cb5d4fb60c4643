"""The latest result drawn on frames: shown in a window (--show), or burnt into
a video file (--save-video, needs no display). These sinks take every frame,
also those --every leaves unclassified, and draw on a copy the latest result
they were given: the run itself draws nothing."""
from __future__ import annotations

import os
import socket
import sys
import time

from ..errors import UserError

VIDEO_CODECS = {".mp4": "mp4v", ".avi": "MJPG", ".mkv": "MJPG"}


def overlay_lines(result):
    """One model: its top 3, a line each. Several: one line per model, stacked in
    the order given, naming the model and its best prediction."""
    if result is None:
        return []
    if len(result.models) == 1:
        return [f"{p.label}  {p.score:.2f}" for p in result.predictions[:3]] or ["-"]
    return [f"{answer.model}: {answer.top.label}  {answer.top.score:.2f}" if answer.top else
            f"{answer.model}: -" for answer in result.models]


def draw_overlay(image, result, fps=None):
    """Writes the top predictions, FPS and the model's latency onto image (in place) and returns it."""
    import cv2

    lines = overlay_lines(result)
    several = result is not None and len(result.models) > 1
    status = []
    if fps:
        status.append(f"{fps:.1f} FPS")
    if result is not None:
        status.append(f"model {result.timings_ms['model']:.0f} ms")
    if status:
        lines.append("  ".join(status))
    scale = max(0.4, image.shape[1] / 900)
    thickness = max(1, int(round(scale * 2)))
    y = 0
    for i, text in enumerate(lines):
        (width, height), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
        top = y + 4
        cv2.rectangle(image, (4, top), (12 + width, top + height + base + 6), (0, 0, 0), -1)
        highlighted = result is not None and (
            (i < len(result.models) and result.models[i].predictions) if several else
            (i == 0 and result.predictions))
        color = (80, 255, 80) if highlighted else (255, 255, 255)
        cv2.putText(image, text, (8, top + height + 3), cv2.FONT_HERSHEY_SIMPLEX, scale, color,
                    thickness, cv2.LINE_AA)
        y = top + height + base + 6
    return image


class Overlay:
    """The latest result and the classification rate so far, drawn on a copy of
    each frame (the frame itself stays as it came, for the other sinks)."""

    def __init__(self):
        self.latest = None
        self.started = None
        self.classified = 0

    def draw(self, frame, result):
        now = time.monotonic()
        if self.started is None:
            self.started = now
        if result is not None:
            self.latest = result
            self.classified += 1
        seconds = now - self.started
        fps = self.classified / seconds if seconds > 0 else 0.0
        return draw_overlay(frame.image.copy(), self.latest, fps)


class VideoFileSink:
    """Writes every frame, overlay included, to a video file; opened on the first
    frame, when its size is known."""

    def __init__(self, path, fps=None):
        ext = os.path.splitext(path)[1].lower()
        if ext not in VIDEO_CODECS:
            raise UserError(f"--save-video writes {', '.join(VIDEO_CODECS)} files, not "
                            f"{ext or 'a name without extension'} ({path})")
        directory = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(directory):
            raise UserError(f"cannot write video {path}: folder {directory} does not exist")
        self.path, self.fourcc, self.fps = path, VIDEO_CODECS[ext], fps or 15.0
        self.writer = None
        self.frames = 0
        self.overlay = Overlay()

    def write(self, frame, result):
        import cv2

        image = self.overlay.draw(frame, result)
        if self.writer is None:
            height, width = image.shape[:2]
            # 4:2:0 codecs need even sides; they would trim an odd one silently anyway
            self.size = (max(2, width - width % 2), max(2, height - height % 2))
            self.writer = cv2.VideoWriter(self.path, cv2.VideoWriter_fourcc(*self.fourcc),
                                          float(self.fps), self.size)
            if not self.writer.isOpened():
                raise UserError(f"OpenCV cannot write video {self.path} ({self.fourcc}); try a "
                                ".avi file")
        if (image.shape[1], image.shape[0]) != self.size:
            # a video has one frame size; OpenCV silently drops frames of any other
            image = cv2.resize(image, self.size, interpolation=cv2.INTER_AREA)
        self.writer.write(image)
        self.frames += 1
        return True

    def close(self):
        if self.writer is not None:
            self.writer.release()  # writes the index: without it an .mp4 does not play


def display_problem():
    """Why no window can be opened here, or None when a display looks reachable.

    Checked before OpenCV tries, because its Qt/GTK backends abort the whole
    process when DISPLAY names a server that is not there."""
    if not sys.platform.startswith("linux"):
        return None
    wayland = os.environ.get("WAYLAND_DISPLAY")
    if wayland:
        runtime = os.environ.get("XDG_RUNTIME_DIR", "")
        if os.path.exists(wayland if os.path.isabs(wayland) else os.path.join(runtime, wayland)):
            return None
    display = os.environ.get("DISPLAY")
    if not display:
        return "there is no display (DISPLAY is not set)"
    host, _, rest = display.rpartition(":")
    number = rest.split(".")[0]
    if not number.isdigit():
        return f"DISPLAY={display} is not a display name"
    try:
        if host in ("", "unix"):
            with socket.socket(socket.AF_UNIX) as conn:
                conn.settimeout(1.0)
                conn.connect(f"/tmp/.X11-unix/X{number}")
        else:
            socket.create_connection((host, 6000 + int(number)), timeout=1.0).close()
    except OSError:
        return f"no X server answers at DISPLAY={display}"
    return None


class WindowSink:
    """A window showing the frames with their overlay; q or Esc stops the run."""

    closed_reason = "window closed"

    def __init__(self, title="edgeinfer"):
        problem = display_problem()
        if problem:
            raise UserError(f"--show needs a display and {problem}: record the overlay with "
                            "--save-video out.mp4 instead, or run on the desktop or over "
                            "`ssh -X`")
        import cv2

        try:
            cv2.namedWindow(title, cv2.WINDOW_NORMAL)
        except cv2.error as error:
            raise UserError(f"--show: OpenCV cannot open a window ({str(error).strip()[:120]}); "
                            "opencv-python-headless has no GUI: `pip install opencv-python`, or "
                            "use --save-video") from None
        self.title = title
        self.overlay = Overlay()

    def write(self, frame, result):
        import cv2

        cv2.imshow(self.title, self.overlay.draw(frame, result))
        key = cv2.waitKey(1) & 0xFF
        if key in (ord("q"), 27):
            return False
        return cv2.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE) >= 1

    def close(self):
        import cv2

        try:
            cv2.destroyWindow(self.title)
        except cv2.error:
            pass
