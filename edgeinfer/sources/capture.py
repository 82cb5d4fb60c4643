"""The two ways a source's thread hands frames to the pipeline.

CaptureLatest: for live devices. OpenCV (and the driver) queue frames; a
consumer slower than the camera then sees frames that grow older and older.
Reading continuously in a thread and keeping only the newest frame bounds
the lag to one frame; each frame replaced before it was taken is counted
as dropped. A device that stops delivering is reopened with back-off.

ReadAhead: for files and sensor streams. Every item, in order, read a little
ahead of the consumer in a queue, so reading overlaps inference and nothing is
dropped.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass

from ..errors import SourceError, UserError
from .frame import Frame

log = logging.getLogger("edgeinfer")


@dataclass
class Backoff:
    """Delays between reconnection attempts: first, first*factor, ... capped at most."""
    first: float = 0.5
    factor: float = 2.0
    most: float = 8.0
    attempts: int = 8

    def delays(self):
        delay = self.first
        for _ in range(self.attempts):
            yield delay
            delay = min(self.most, delay * self.factor)


class CaptureLatest:
    """Reads a device in a thread, keeping only the newest frame.

    open_device() returns an object with read() -> (ok, image) and release(), as
    cv2.VideoCapture has, or raises SourceError. With reconnect, a failed read
    releases the device and reopens it with back-off; without, it ends the source
    (a file played in real time)."""

    live = True

    def __init__(self, open_device, description, *, reconnect=True, backoff=None, fps=None,
                 position_of=None, skipped_of=None):
        self._open = open_device
        self.description = description
        self.reconnect = reconnect
        self.backoff = backoff or Backoff()
        self.fps = fps
        self._position_of = position_of
        self.dropped = 0
        self.captured = 0
        self.reconnects = 0
        self._skipped_of = skipped_of
        self._latest = None
        self._ended = False
        self._error = None
        self._outage_seconds = 0.0
        self._reopened_without_frames = False
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._device = None
        self._thread = None

    @property
    def skipped(self):
        """Frames the device could not decode (a damaged file played in real time)."""
        return self._skipped_of() if self._skipped_of else 0

    def start(self):
        self._device = self._open()
        self._thread = threading.Thread(target=self._capture, daemon=True,
                                        name=f"capture {self.description}")
        self._thread.start()
        return self

    def _capture(self):
        # One back-off schedule per outage, restarted only by a frame: a device that
        # reopens but never delivers (a stream that answers with no video) must use up
        # the attempts instead of starting them afresh at every reopening.
        attempts = None
        try:
            while not self._stop.is_set():
                ok, image = self._device.read()
                if ok and image is not None:
                    self._publish(image)
                    attempts = None
                    continue
                if not self.reconnect:
                    break
                if attempts is None:
                    attempts = enumerate(self.backoff.delays(), start=1)
                    self._outage_seconds = 0.0
                if not self._reopen(attempts):
                    break
        except Exception as error:  # a device must not die silently in its thread
            self._error = SourceError(f"{self.description} failed: {error}")
        finally:
            self._release()
            with self._cond:
                self._ended = True
                self._cond.notify_all()

    def _publish(self, image):
        frame = Frame(image, self.captured, time.monotonic(), time.time(),
                      position=self._position_of(self.captured) if self._position_of else None)
        with self._cond:
            if self._latest is not None:
                self.dropped += 1
            self._latest = frame
            self.captured += 1
            self._reopened_without_frames = False
            self._cond.notify_all()

    def _release(self):
        device, self._device = self._device, None
        if device is not None:
            try:
                device.release()
            except Exception:  # releasing a vanished device may fail; nothing to keep
                pass

    def _reopen(self, attempts):
        """Reopens the device on the outage's next attempts; False when they are used up
        (the error then says so) or the source is closed."""
        self._release()
        for attempt, delay in attempts:
            log.warning(f"{self.description} stopped delivering frames; reconnecting in "
                        f"{delay:.1f} s (attempt {attempt} of {self.backoff.attempts})")
            if self._stop.wait(delay):
                return False
            self._outage_seconds += delay
            try:
                self._device = self._open()
            except Exception:
                continue
            self.reconnects += 1
            self._reopened_without_frames = True
            log.warning(f"{self.description} is back")
            return True
        what = ("opens but delivers no frames" if self._reopened_without_frames else
                "did not come back")
        self._error = SourceError(
            f"{self.description} stopped delivering frames and {what} after "
            f"{self.backoff.attempts} attempts over {self._outage_seconds:.0f} s: check the "
            "cable or network and that the device or stream is sending video, then start again")
        return False

    def read(self, timeout=None):
        """The newest frame not yet taken, waiting up to timeout seconds; None when
        there is none (yet, or any more: see finished)."""
        with self._cond:
            self._cond.wait_for(lambda: self._latest is not None or self._ended, timeout)
            frame, self._latest = self._latest, None
            if frame is None and self._ended and self._error is not None:
                error, self._error = self._error, None
                raise error
            return frame

    @property
    def finished(self):
        with self._cond:
            return self._ended and self._latest is None and self._error is None

    def close(self):
        self._stop.set()
        if self._thread is not None:
            # a blocked network read may not return soon; the thread is a daemon
            self._thread.join(timeout=2.0)


def reopening(first, open_device):
    """An opener for CaptureLatest that hands out the device already opened (and
    checked) once, then opens a new one for each reconnection."""
    pending = [first]

    def opener():
        return pending.pop() if pending else open_device()
    return opener


_END = object()


class ReadAhead:
    """Runs producer.frames() (a generator of Frames, SensorWindows or sensor
    Samples) in a thread, `depth` items ahead (0: no limit, for a live stream
    that must never wait). A producer whose reads may block for good (a socket,
    a serial port) offers interrupt(), which close() calls to unblock them."""

    dropped = 0

    def __init__(self, producer, depth=2):
        # a stream read without limit (stdin, serial, UDP) is live: its queue time is
        # part of how late a result comes; a file's only says how far ahead we read
        self.live = depth == 0
        self.producer = producer
        self.description = producer.description
        self.fps = getattr(producer, "fps", None)
        self._queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._finished = False
        self._thread = None

    @property
    def skipped(self):
        return getattr(self.producer, "skipped", 0)

    def start(self):
        self._thread = threading.Thread(target=self._produce, daemon=True,
                                        name=f"read {self.description}")
        self._thread.start()
        return self

    def _put(self, item):
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self):
        frames = self.producer.frames()
        try:
            for frame in frames:
                if not self._put(frame):
                    break
        except Exception as error:
            failure = error if isinstance(error, UserError) else \
                SourceError(f"reading {self.description} failed: {error}")
            self._put(failure)
            return
        finally:
            frames.close()
            close = getattr(self.producer, "close", None)
            if close:
                close()
        self._put(_END)

    def read(self, timeout=None):
        if self._finished:
            return None
        try:
            item = self._queue.get(timeout=timeout)
        except queue.Empty:
            return None
        if item is _END:
            self._finished = True
            return None
        if isinstance(item, Exception):
            self._finished = True
            raise item
        return item

    @property
    def finished(self):
        return self._finished

    def close(self):
        self._stop.set()
        interrupt = getattr(self.producer, "interrupt", None)
        if interrupt is not None:
            interrupt()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
