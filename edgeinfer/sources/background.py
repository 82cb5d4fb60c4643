"""Opening a source in a thread while the caller does something else (`edgeinfer
run` loads its models meanwhile): a camera's open or a video's first decode then
costs no time of its own before the first prediction.

    with OpenInBackground(lambda: open_video("clip.mp4")) as opening:
        model = load("m.onnx")           # an error here closes what was opened
    source = opening.result()            # the source, or the error opening it raised
"""
from __future__ import annotations

import threading


class OpenInBackground:
    def __init__(self, open_source):
        self._source = self._error = None
        # a daemon: a device whose open hangs must not keep the process alive
        self._thread = threading.Thread(target=self._open, args=(open_source,), daemon=True,
                                        name="open source")
        self._thread.start()

    def _open(self, open_source):
        try:
            self._source = open_source()
        except BaseException as error:  # handed to the caller's thread by result()
            self._error = error

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        """What went wrong meanwhile (a bad model, Ctrl-C) is the error the caller
        sees, as when the source opened after it: the source is closed unseen."""
        if kind is not None:
            self._thread.join()
            if self._source is not None:
                self._source.close()
        return False

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
