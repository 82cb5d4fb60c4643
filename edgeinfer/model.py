"""A model: one ONNX file, what it says about itself, and a backend to run it.

    model = edgeinfer.load("m.onnx")
    model.predict(frame)           # [Prediction(label, index, score), ...] best first
    model.predict("photo.jpg")     # the same from an image file; a list gives a list of lists

Frames are uint8 images as OpenCV delivers them (BGR); everything else —
size, crop, colour order, mean/std, layout, labels, whether the output needs
a softmax — comes from the file's metadata. Knows nothing of cameras or files
of frames: the pipeline brings frames here.
"""
from __future__ import annotations

import logging
import os
from dataclasses import fields, replace

import numpy as np

from . import backends
from .errors import ModelError
from .kernels import preprocess
from .media import read_image
from .metadata import ImageInput, MetadataError, ModelInfo, info_from_metadata
from .model_file import open_model_file
from .model_guess import guess_image, show_shape as _show_shape
from .sensor.window import LAYOUTS as SENSOR_LAYOUTS, window_tensor
from .run.postprocess import DEFAULT_TOP_K, Prediction, probabilities, top_k

log = logging.getLogger("edgeinfer")

MAX_BATCH = 32  # frames per backend call when the batch axis is free


def load(path, backend="auto", threads=None, *, labels=None, image=None, output=None,
         output_name=None, device=None):
    """Loads an ONNX model file for inference.

    backend: "auto" (the best one installed), or a name from edgeinfer.backends.BACKENDS.
    threads: threads inference may use (None: the backend's default, all cores).
    labels, image, output: override the file's metadata, or stand in for it when
        the file has none: labels a list of class names, image an ImageInput or a
        dict of its fields (size, color, mean, std, crop, ...), output "logits"
        or "probabilities". What a file without metadata leaves open is assumed
        and named in a warning.
    output_name: the graph output holding the class scores, for a model with
        several (default: the one the metadata names, else the first).
    device: "cpu", "cuda", "tensorrt", "openvino", "coreml" ... (an onnxruntime
        execution provider this onnxruntime build has; default: the CPU).
    Raises ModelError (one line: which file, what is wrong, what to do).
    """
    model_file = open_model_file(path)   # read once; each backend parses these bytes
    try:
        info = info_from_metadata(model_file.metadata, origin=model_file.origin)
    except MetadataError as error:
        raise ModelError(str(error)) from None
    engine = backends.open_backend(model_file, backend, threads, device=device)
    return Model(path, engine, info, labels=labels, image=image, output=output,
                 output_name=output_name)


class Model:
    """Runs one model on frames. Not thread-safe: one Model per thread."""

    def __init__(self, path, backend, info, labels=None, image=None, output=None,
                 output_name=None):
        self.path = os.fspath(path)
        self.backend = backend
        self.has_metadata = info is not None
        info = replace(info) if info is not None else ModelInfo(output=None)
        assumed = []
        self.input = self._choose_input(info)
        info.input_name = self.input.name
        self.output_index = self._choose_output(output_name or info.output_name)
        info.output_name = self.backend.outputs[self.output_index].name
        if info.task == "image-classification":
            info.image = self._image_input(info.image, image, assumed)
        else:
            self._check_sensor_input(info.sensor)
        if labels is not None:
            info.labels = [str(label) for label in labels]
        elif not info.labels:
            assumed.append("labels 'class 0', 'class 1', ...")
        if output is not None:
            info.output = output
        if info.output is None:
            assumed.append("output logits unless each row already sums to 1 (then "
                           "probabilities)")
        if info.output not in (None, "logits", "probabilities"):
            raise ModelError(f"output must be 'logits' or 'probabilities', got {info.output!r}")
        self.info = info
        self.assumed = assumed
        self.classes = self._check_classes(labels is not None)
        if assumed:
            where = "carries no edgeinfer metadata" if not self.has_metadata else \
                "leaves some settings open"
            log.warning(f"{self.path} {where}; assumed " + "; ".join(assumed) +
                        ". Give them to edgeinfer.load (or convert the model with "
                        "`edgeinfer convert`) to be sure")
        self._buffer = None

    # -- what the model takes and gives ----------------------------------------------------

    def _choose_output(self, name):
        """The index of the scores output; a ModelError listing the outputs when
        the chosen one is not (batch, classes) scores."""
        outputs = self.backend.outputs
        listed = ", ".join(f"{o.name} {_show_shape(o.shape)}" for o in outputs)
        index = 0
        if name is not None:
            names = [o.name for o in outputs]
            if name not in names:
                raise ModelError(f"{self.path} has no output {name!r}; its outputs are {listed}")
            index = names.index(name)
        if not _are_class_scores(outputs[index].shape):
            raise ModelError(f"{self.path}: output {outputs[index].name!r} is "
                             f"{_show_shape(outputs[index].shape)}, not class scores [N, C] (a "
                             f"detector or other non-classifier?); its outputs are {listed}: "
                             "edgeinfer runs classifiers; pick the scores output with --output "
                             "NAME (edgeinfer.load(..., output_name=NAME))")
        return index

    def _choose_input(self, info):
        inputs = self.backend.inputs
        if info.input_name:
            for spec in inputs:
                if spec.name == info.input_name:
                    return spec
            names = ", ".join(s.name for s in inputs)
            raise ModelError(f"{self.path}: its metadata names input {info.input_name!r} but the "
                             f"graph's inputs are {names}: convert the model again")
        if len(inputs) != 1:
            names = ", ".join(s.name for s in inputs)
            raise ModelError(f"{self.path} has {len(inputs)} inputs ({names}); edgeinfer feeds "
                             "one: record which in the metadata with `edgeinfer convert`")
        return inputs[0]

    def _image_input(self, meta_image, given, assumed):
        shape = self.input.shape
        if len(shape) != 4:
            raise ModelError(f"{self.path}: input {self.input.name!r} has shape "
                             f"{_show_shape(shape)}, not an image batch (N, C, H, W) or "
                             "(N, H, W, C): is this a sensor model?")
        given = dict(given.__dict__ if isinstance(given, ImageInput) else (given or {}))
        unknown = set(given) - {f.name for f in fields(ImageInput)}
        if unknown:
            raise ModelError(f"unknown image settings {sorted(unknown)}; known: "
                             f"{', '.join(f.name for f in fields(ImageInput))}")
        for name in ("mean", "std"):  # one number stands for every channel
            if name in given and np.ndim(given[name]) == 0:
                given[name] = (float(given[name]),) * 3
        if meta_image is not None:
            image = replace(meta_image, **given)
        else:
            image = ImageInput(**guess_image(self.path, shape, self.input.dtype, given, assumed))
        image.size = _pair(image.size)
        expected = _input_shape(image)
        for axis, (want, have) in enumerate(zip(expected[1:], shape[1:]), start=1):
            if have is not None and have != want:
                raise ModelError(
                    f"{self.path}: input {self.input.name!r} takes {_show_shape(shape)} but the "
                    f"image settings make {_show_shape(expected)} ({image.layout}, "
                    f"{image.color}, size {image.size[0]}x{image.size[1]}): correct the size/"
                    "layout/colour in the metadata or the arguments to edgeinfer.load")
        want_dtype = np.dtype(image.dtype)
        if self.input.dtype is None or np.dtype(self.input.dtype) != want_dtype:
            have = getattr(self.input.dtype, "__name__", "an unsupported type")
            raise ModelError(f"{self.path}: input {self.input.name!r} is of type {have}, "
                             f"edgeinfer prepares {want_dtype.name} images: the model needs a "
                             "float32 or uint8 image input")
        return image

    def _check_sensor_input(self, sensor):
        if sensor is None or not sensor.channels:
            raise ModelError(f"{self.path} is a sensor model without its window settings: convert "
                             "it with `edgeinfer convert ... --sensor-window W --hop H "
                             "--channels a,b,c`")
        if sensor.layout not in SENSOR_LAYOUTS:
            raise ModelError(f"{self.path}: sensor layout {sensor.layout!r} is not one of "
                             f"{', '.join(SENSOR_LAYOUTS)}")
        shape = self.input.shape
        expected = _sensor_shape(sensor)
        if len(shape) != len(expected) or any(
                have is not None and have != want for have, want in zip(shape[1:], expected[1:])):
            raise ModelError(f"{self.path}: input {self.input.name!r} takes {_show_shape(shape)} "
                             f"but its sensor settings make {_show_shape(expected)} "
                             f"({sensor.layout}, window {sensor.window}, "
                             f"{len(sensor.channels)} channels): convert the model again")

    def _check_classes(self, labels_given):
        shape = self.backend.outputs[self.output_index].shape
        classes = max((d for d in shape[1:] if d is not None), default=None) if len(shape) > 1 \
            else (shape[0] if shape else None)
        labels = self.info.labels
        if classes is not None and labels and len(labels) != classes:
            whose = "the labels given have" if labels_given else "its metadata has"
            raise ModelError(f"{self.path} scores {classes} classes but {whose} {len(labels)} "
                             "labels: give one label per class")
        return classes

    @property
    def labels(self):
        return self.info.labels

    @property
    def input_shape(self):
        """The shape of one frame's (or sensor window's) tensor, batch axis included (1, ...)."""
        if self.info.sensor is not None and self.info.image is None:
            return _sensor_shape(self.info.sensor)
        return _input_shape(self.info.image)

    def new_input(self, batch=1):
        """An input tensor to prepare frames into, so a loop allocates nothing per frame."""
        dtype = np.float32 if self.info.image is None else self.info.image.dtype
        return np.empty((batch,) + self.input_shape[1:], dtype=dtype)

    # -- running ---------------------------------------------------------------------------

    def prepare(self, frame, out=None, input_color="bgr"):
        """A frame (uint8, BGR unless input_color says otherwise) as this model's input
        tensor; for a sensor model, a (samples, channels) window."""
        if self.info.image is None:
            sensor = self.info.sensor
            try:
                return window_tensor(frame, sensor.mean, sensor.std, sensor.layout, out=out)
            except ValueError as error:
                raise ModelError(f"cannot prepare a window for {self.path}: {error}") from None
        try:
            return preprocess(frame, input_color=input_color, out=out,
                              **self.info.image.preprocess_kwargs())
        except ValueError as error:
            raise ModelError(f"cannot prepare a frame for {self.path}: {error}") from None

    def run(self, tensor):
        """The raw scores output of the graph for an input tensor (batch axis first)."""
        tensor = np.asarray(tensor)
        expected = self.input.shape
        if tensor.ndim != len(expected) or any(
                have is not None and have != got for have, got in zip(expected, tensor.shape)):
            raise ModelError(f"{self.path}: input {self.input.name!r} takes "
                             f"{_show_shape(expected)}, got an array of shape {tensor.shape}")
        return self.backend.run({self.input.name: tensor})[self.output_index]

    def probabilities(self, raw):
        """(batch, classes) probabilities from raw output: softmax applied to logits."""
        return probabilities(raw, self.info.output)

    def predict(self, frames, top_k=DEFAULT_TOP_K, threshold=0.0, input_color="bgr"):
        """Top-k Predictions for one frame or image file path, or a list of such
        lists for a list of them (one backend call per batch when the model's
        batch axis allows more than one). Files are read in OpenCV's BGR order."""
        single = isinstance(frames, (str, os.PathLike)) or (
            isinstance(frames, np.ndarray) and frames.ndim in (2, 3))
        batch = [frames] if single else list(frames)
        if any(isinstance(frame, (str, os.PathLike)) for frame in batch):
            if input_color != "bgr":
                raise ModelError(f"predict reads image files as BGR, and input_color "
                                 f"{input_color!r} is for arrays: give files and "
                                 f"{input_color} arrays in separate calls")
            batch = [read_image(os.fspath(f)) if isinstance(f, (str, os.PathLike)) else f
                     for f in batch]
        results = []
        for start in range(0, len(batch), self._batch_size(len(batch))):
            chunk = batch[start:start + self._batch_size(len(batch))]
            results.extend(self._predict_batch(chunk, top_k, threshold, input_color))
        return results[0] if single else results

    def _batch_size(self, wanted):
        fixed = self.input.shape[0]
        return fixed if fixed is not None else max(1, min(wanted, MAX_BATCH))

    def _predict_batch(self, frames, k, threshold, input_color):
        size = self._batch_size(len(frames))
        if size == 1 and len(frames) == 1:
            if self._buffer is None:
                self._buffer = self.new_input(1)
            tensor = self._buffer
        else:
            tensor = self.new_input(size)
            tensor[len(frames):] = 0
        for i, frame in enumerate(frames):
            self.prepare(frame, out=tensor[i:i + 1], input_color=input_color)
        scores = self.probabilities(self.run(tensor))
        return [top_k(scores[i], self.labels, k, threshold) for i in range(len(frames))]

    def __repr__(self):
        image = self.info.image
        what = f"{image.size[0]}x{image.size[1]} {image.color}" if image else self.info.task
        return (f"<edgeinfer.Model {os.path.basename(self.path)}: {what} -> "
                f"{self.classes or '?'} classes on {self.backend.name}>")


def _pair(size):
    if isinstance(size, (int, np.integer)):
        return (int(size), int(size))
    height, width = (int(v) for v in size)
    return (height, width)


def _sensor_shape(sensor):
    window, channels = int(sensor.window), len(sensor.channels)
    return {"ncw": (1, channels, window), "nwc": (1, window, channels),
            "flat": (1, window * channels)}[sensor.layout]


def _input_shape(image):
    height, width = _pair(image.size)
    channels = 1 if image.color == "gray" else 3
    if image.layout == "nchw":
        return (1, channels, height, width)
    return (1, height, width, channels)


def _are_class_scores(shape):
    """(N, C), or (N, C, 1, 1 ...) as a convolutional head leaves it; an unknown
    shape is given the benefit of the doubt (the run shows what it is)."""
    if len(shape) <= 1:
        return True
    rest = shape[1:]
    if len(rest) == 1:
        return True
    return all(d == 1 for d in rest[1:])


__all__ = ["load", "Model", "Prediction"]
