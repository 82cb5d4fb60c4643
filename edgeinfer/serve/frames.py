"""The newest frame with its overlay, as JPEG for GET /video.mjpg.

The pipeline thread only leaves the frame here (no copy, no encoding); a viewer
asks for it at most MAX_FPS times a second, and each frame is drawn and encoded
once however many viewers there are. Without viewers it costs nothing; a slow
viewer simply gets fewer frames."""
from __future__ import annotations

import threading

from ..opencv_io import quiet_cv2
from ..sinks import draw_overlay

MAX_FPS = 10          # frames a second sent to each viewer, at most
MAX_WIDTH = 640       # wider frames are scaled down first: a phone on Wi-Fi keeps up
JPEG_QUALITY = 80
BOUNDARY = "edgeinfer-frame"


class FrameFeed:
    def __init__(self, max_width=MAX_WIDTH, quality=JPEG_QUALITY):
        self.max_width = max_width
        self.quality = quality
        self.sequence = 0       # frames put so far
        self._newest = None     # (sequence, image, the latest result, fps)
        self._result = None
        self._encoded = (0, None)
        self._lock = threading.Lock()

    def put(self, frame, result, fps):
        """The source's newest frame; result None (an item --every skipped) keeps
        the latest result on it."""
        if result is not None:
            self._result = result
        self.sequence += 1
        self._newest = (self.sequence, frame.image, self._result, fps)

    def jpeg(self):
        """(sequence, JPEG bytes) of the newest frame; (0, None) before the first."""
        newest = self._newest
        if newest is None:
            return 0, None
        with self._lock:
            if self._encoded[0] != newest[0]:
                self._encoded = (newest[0], self._encode(*newest[1:]))
            return self._encoded

    def _encode(self, image, result, fps):
        cv2 = quiet_cv2()
        height, width = image.shape[:2]
        if width > self.max_width:
            image = cv2.resize(image, (self.max_width, max(1, height * self.max_width // width)),
                               interpolation=cv2.INTER_AREA)
        else:
            image = image.copy()   # the frame stays as it came for the pipeline's other sinks
        draw_overlay(image, result, fps)
        ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self.quality])
        return data.tobytes() if ok else None


def mjpeg_part(jpeg):
    """One frame of a multipart/x-mixed-replace stream."""
    head = (f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
            f"Content-Length: {len(jpeg)}\r\n\r\n").encode()
    return head + jpeg + b"\r\n"
