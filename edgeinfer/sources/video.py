"""Video files (every frame, in order; or paced at the file's own rate with
--realtime) and network streams (live: newest frame only, reconnecting)."""
from __future__ import annotations

import logging
import os
import time

from ..errors import SourceError
from ..opencv_io import quiet_cv2
from .capture import CaptureLatest, ReadAhead, reopening
from .frame import Frame

log = logging.getLogger("edgeinfer")

STREAM_SCHEMES = ("rtsp://", "rtsps://", "rtmp://", "http://", "https://", "udp://", "tcp://",
                  "srt://")
STREAM_TIMEOUT_MS = 5000
# A failed read is the end of the file or a damaged stretch in it: FFmpeg picks up again
# at the next packet that decodes, one failed read per lost frame. Reading goes on this
# many failures past the last good frame before taking it for the end (at the real end a
# failed read takes microseconds, so the margin costs nothing).
UNDECODABLE_RUN = 1000


def _open_file(path):
    cv2 = quiet_cv2()
    if not os.path.exists(path):
        raise SourceError(f"video {path} does not exist: check the path")
    if not os.path.isfile(path):
        raise SourceError(f"video {path} is not a file (for a folder of images use --image)")
    capture = cv2.VideoCapture(path)
    if not capture.isOpened():
        capture.release()
        raise SourceError(f"video {path} cannot be opened: not a video OpenCV's FFmpeg can "
                          "decode (check it plays, e.g. `ffprobe FILE`; an image goes to --image)")
    ok, first = capture.read()
    if not ok or first is None:
        capture.release()
        raise SourceError(f"video {path} has no frame that decodes: it may be empty or corrupt")
    fps = capture.get(cv2.CAP_PROP_FPS)
    return capture, first, fps if fps and 0 < fps < 1000 else None


class VideoFile:
    """Every frame of a file, in order, for ReadAhead. Frames that do not decode
    (damage inside the file) are skipped, counted and reported, and reading goes on
    to the real end of the file."""

    def __init__(self, path):
        self.path = path
        self.description = f"video {path}"
        self._capture, self._first, self.fps = _open_file(path)
        self.skipped = 0

    def frames(self):
        capture, image = self._capture, self._first
        self._first = None
        index = 0       # the frame's number in the file, frames that did not decode included
        undecoded = 0   # failed reads since the last frame that decoded
        while undecoded <= UNDECODABLE_RUN:
            if image is None:
                undecoded += 1
            else:
                if undecoded:
                    self._report_skipped(index, undecoded)
                    index += undecoded
                    undecoded = 0
                position = index / self.fps if self.fps else None
                yield Frame(image, index, time.monotonic(), time.time(), position=position)
                index += 1
            ok, image = capture.read()
            image = image if ok else None
        # the failed reads after the last frame that decoded were the end of the file

    def _report_skipped(self, first, count):
        self.skipped += count
        where = f" ({first / self.fps:.1f} s in)" if self.fps else ""
        frames = f"frame {first}{where} does" if count == 1 else \
            f"frames {first}-{first + count - 1}{where} do"
        log.warning(f"{self.description}: {frames} not decode (the file is damaged "
                    "there); skipped, the count is in the summary")

    def close(self):
        self._capture.release()


class PacedVideo:
    """A file read at its own frame rate, as if a camera were filming it: each frame
    is due at its place in the file (frames that do not decode are skipped and counted,
    as VideoFile does)."""

    def __init__(self, video, fps):
        self.video, self.period = video, 1.0 / fps
        self._frames = video.frames()
        self.started = None
        self.index = 0  # the file's number of the frame read last

    @property
    def skipped(self):
        return self.video.skipped

    def read(self):
        frame = next(self._frames, None)
        if frame is None:
            return False, None
        if self.started is None:
            self.started = time.monotonic()
        delay = self.started + frame.index * self.period - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        self.index = frame.index
        return True, frame.image

    def release(self):
        self._frames.close()
        self.video.close()


def open_video(path, realtime=False):
    """A started source over a video file: every frame in order, or with realtime
    paced at the file's frame rate, keeping the newest (drops counted)."""
    video = VideoFile(path)
    if not realtime:
        return ReadAhead(video).start()
    fps = video.fps or 30.0
    paced = PacedVideo(video, fps)
    return CaptureLatest(lambda: paced, video.description, reconnect=False, fps=fps,
                         position_of=lambda _: paced.index / fps,
                         skipped_of=lambda: paced.skipped).start()


def open_stream(url, backoff=None):
    """A started live source over an RTSP/HTTP/... stream, reconnecting when it drops."""
    cv2 = quiet_cv2()
    if not url.lower().startswith(STREAM_SCHEMES):
        schemes = ", ".join(s[:-3] for s in STREAM_SCHEMES)
        raise SourceError(f"--url takes a stream address ({schemes}://...), got {url!r}; a file "
                          "on disk goes to --video")
    shown = _without_password(url)

    def open_device():
        capture = cv2.VideoCapture(url, cv2.CAP_FFMPEG, [
            cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, STREAM_TIMEOUT_MS,
            cv2.CAP_PROP_READ_TIMEOUT_MSEC, STREAM_TIMEOUT_MS])
        if not capture.isOpened():
            capture.release()
            raise SourceError(f"stream {shown} does not open: check the address and that the "
                              "stream is up (try `ffplay URL`), and that this machine can reach it")
        capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        return capture

    first = open_device()
    fps = first.get(cv2.CAP_PROP_FPS)
    return CaptureLatest(reopening(first, open_device), f"stream {shown}",
                         backoff=backoff, fps=fps if fps and 0 < fps < 1000 else None).start()


def _without_password(url):
    """rtsp://user:secret@host/... -> rtsp://user:***@host/... for messages and logs."""
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.partition("@")
    if at and ":" in credentials:
        user = credentials.split(":", 1)[0]
        return f"{scheme}{sep}{user}:***@{host}"
    return url
