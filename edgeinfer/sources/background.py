"""Opening a source in a thread while the caller does something else (`edgeinfer
run` loads its models meanwhile): a camera's open or a video's first decode then
costs no time of its own before the first prediction.

    with OpenInBackground(lambda: open_video("clip.mp4")) as opening:
        model = load("m.onnx")           # an error here closes what was opened
    source = opening.result()            # the source, or the error opening it raised
"""
from __future__ import annotations

import threading

# how long a failed or interrupted load waits for a source still opening before
# leaving it to close itself once open
ABANDON_WAIT_S = 2.0


class OpenInBackground:
    def __init__(self, open_source):
        self._source = self._error = None
        self._abandoned = False
        self._lock = threading.Lock()
        # a daemon: a device whose open hangs must not keep the process alive
        self._thread = threading.Thread(target=self._open, args=(open_source,), daemon=True,
                                        name="open source")
        self._thread.start()

    def _open(self, open_source):
        try:
            source = open_source()
        except BaseException as error:  # handed to the caller's thread by result()
            self._error = error
            return
        with self._lock:
            self._source = source
        if self._abandoned:  # the caller gave up on it while it was opening
            self._close_if_opened()

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        """What went wrong meanwhile (a bad model, Ctrl-C) is the error the caller
        sees, as when the source opened after it: the source is closed unseen."""
        if kind is not None:
            # a device whose open hangs must not hold up the error (or Ctrl-C): wait a
            # little, and if it is still opening, let the thread close what it opens
            self._abandoned = True
            self._thread.join(ABANDON_WAIT_S)
            self._close_if_opened()
        return False

    def _close_if_opened(self):
        with self._lock:
            source, self._source = self._source, None
        if source is not None:
            source.close()

    def result(self):
        """The source once open (a live one counts drops from here: frames it replaced
        while the caller was busy were never due), or the error its opening raised."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        begin = getattr(self._source, "begin_reading", None)
        if begin is not None:
            begin()
        return self._source
