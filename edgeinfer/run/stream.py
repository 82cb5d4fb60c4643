"""`edgeinfer.stream`: the run as a Python loop, yielding the Result records
`edgeinfer run` writes, through the same Pipeline.

    for result in edgeinfer.stream("m.onnx", camera=0):
        print(result.top.label, result.timings_ms["model"])

The source is named as on the command line (camera=, video=, image=, url=,
sensor=), or given opened (anything with read(timeout), finished, close()).
"""
from __future__ import annotations

from ..model import Model, load
from ..sensor.stream import open_sensor_windows
from ..sources import open_camera, open_images, open_picam, open_stream, open_video
from .classifier import Classifier
from .pipeline import Pipeline
from .postprocess import DEFAULT_TOP_K, Postprocessor

SOURCE_NAMES = ("camera", "video", "image", "url", "sensor")


def open_source(camera=None, video=None, image=None, url=None, sensor=None, *,
                sensor_input=None, realtime=False):
    """The one source named: camera (an index, a /dev/video path or 'picam'),
    video (a file), image (files, folders or patterns: a str or a list), url (a
    stream), sensor (a CSV file, '-', serial:PORT@BAUD or udp:HOST:PORT, cut
    into windows as sensor_input, a model's SensorInput, says). SourceError
    when it cannot be opened, ValueError when not exactly one is named."""
    given = {name: value for name, value in zip(SOURCE_NAMES, (camera, video, image, url, sensor))
             if value is not None}
    if len(given) != 1:
        raise ValueError(f"name one source ({', '.join(SOURCE_NAMES)}), got "
                         f"{', '.join(given) or 'none'}")
    if sensor is not None:
        return open_sensor_windows(sensor, sensor_input)
    if video is not None:
        return open_video(video, realtime=realtime)
    if image is not None:
        return open_images([image] if isinstance(image, str) else list(image))
    if url is not None:
        return open_stream(url)
    if str(camera).lower() == "picam":
        return open_picam()
    return open_camera(camera)


def stream(model, source=None, *, camera=None, video=None, image=None, url=None, sensor=None,
           realtime=False, top_k=DEFAULT_TOP_K, threshold=0.0, smoothing=1, every=1,
           max_frames=None, backend="auto", threads=None, device=None, labels=None):
    """Yields a Result (run/results.py) for each classified frame or sensor
    window, as `edgeinfer run` writes them, until the source ends, max_frames
    frames were taken, or the loop breaks (which closes the source).

    model: a path (loaded with backend, threads, device, labels) or a loaded Model.
    source: an opened source, or name one with camera=, video=, image=, url=, sensor=.
    top_k, threshold, smoothing, every: as the run options of the same names.
    The model is loaded and the source opened here, so their errors come from
    this call, not from the first step of the loop."""
    if not isinstance(model, Model):
        model = load(model, backend=backend, threads=threads, labels=labels, device=device)
    classifier = Classifier(model, Postprocessor.for_model(model, top_k, threshold, smoothing))
    if int(every) < 1:
        raise ValueError(f"every must be at least 1, got {every}")
    if source is None:
        source = open_source(camera, video, image, url, sensor, sensor_input=model.info.sensor,
                             realtime=realtime)
    return Results(Pipeline(source, [classifier], every=every, max_frames=max_frames))


class Results:
    """The classified items of a run, as an iterator; `close()` (or a `with`
    block, or the end of a `for` loop that breaks) ends the run and closes
    the source, also when the loop never began."""

    def __init__(self, pipeline):
        self.pipeline = pipeline
        self._steps = pipeline.results()
        self._started = False

    def __iter__(self):
        return self

    def __next__(self):
        self._started = True
        while True:
            _, result = next(self._steps)
            if result is not None:
                return result

    def close(self):
        self._steps.close()
        if not self._started:  # a generator never begun runs no finally: close the source here
            self.pipeline.source.close()
            self._started = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __del__(self):
        self.close()
