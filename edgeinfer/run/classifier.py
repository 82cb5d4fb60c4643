"""One model's share of a run: its input tensor, its preprocessing, its backend
call and its Postprocessor, timed. The pipeline holds one per model."""
from __future__ import annotations

import os
import time

from ..core.runtime import num_threads
from .postprocess import Postprocessor
from .results import ModelResult

IMAGE, SENSOR = "image", "sensor window"


class Classifier:
    def __init__(self, model, postprocessor=None, name=None):
        self.model = model
        self.postprocessor = postprocessor or Postprocessor.for_model(model)
        self.name = name or model_name(model.path)
        self.takes = IMAGE if model.info.image is not None else SENSOR
        self.tensor = model.new_input()

    def __call__(self, item, started):
        """This model's ModelResult for a Frame (image model) or a SensorWindow
        (sensor model), timed from `started` (time.monotonic(), when the run
        turned to this model); and when it was done."""
        if self.takes == IMAGE:
            # One frame is too little work to share: with the capture thread and the
            # backend's threads on the same cores, a split step waits for a task taken
            # by a worker that is not scheduled (measured with OpenMP: 0.07 ms on one
            # thread, 24 ms on two, for a 320x240 frame on a busy 2-core machine). The
            # backend sets its own thread count for its run.
            with num_threads(1):
                self.model.prepare(item.image, out=self.tensor)
        else:
            self.model.prepare(item.samples, out=self.tensor)
        prepared = time.monotonic()
        raw = self.model.run(self.tensor)
        inferred = time.monotonic()
        predictions = self.postprocessor(raw)
        done = time.monotonic()
        return ModelResult(self.name, predictions,
                           {"model": (done - started) * 1e3,
                            "preprocess": (prepared - started) * 1e3,
                            "inference": (inferred - prepared) * 1e3,
                            "postprocess": (done - inferred) * 1e3}), done


def model_name(path):
    """A model's name in results: its file name without the .onnx."""
    stem, ext = os.path.splitext(os.path.basename(os.fspath(path)))
    return stem if ext.lower() == ".onnx" else stem + ext


def distinct_names(paths):
    """One name per model path; the same file name twice gets #2, #3 ..."""
    names, seen = [], {}
    for path in paths:
        name = model_name(path)
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name}#{seen[name]}")
    return names
