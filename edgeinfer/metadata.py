"""What a model file says about itself: labels, task, how to prepare its input,
what its output means, where it came from and how it was verified.

Stored as one JSON document under the key "edgeinfer" in the ONNX model's
metadata_props, with a format version the loader checks, so an older runtime
meeting a newer file says so instead of guessing.
"""
from __future__ import annotations

import json
import logging
import numbers
from dataclasses import asdict, dataclass, field, fields
from typing import Optional

from .errors import ModelError
from .kernels.frame_plan import INPUT_COLORS, LAYOUTS, OUTPUT_COLORS, OUTPUT_DTYPES, RESIZE_MODES
from .sensor.window import LAYOUTS as SENSOR_LAYOUTS

log = logging.getLogger("edgeinfer")

METADATA_KEY = "edgeinfer"
FORMAT_VERSION = 1

TASKS = ("image-classification", "sensor-classification")
OUTPUT_KINDS = ("logits", "probabilities")


class MetadataError(ModelError, ValueError):
    """A model file's edgeinfer metadata is unreadable, malformed or too new."""


@dataclass
class ImageInput:
    """Arguments for edgeinfer.preprocess; pixel statistics in 0..255 units."""
    size: tuple = (224, 224)            # (height, width)
    layout: str = "nchw"
    color: str = "rgb"
    resize: str = "bilinear"
    crop: object = None                 # None, a centre fraction, or "letterbox"
    mean: tuple = (0.0, 0.0, 0.0)
    std: tuple = (1.0, 1.0, 1.0)
    dtype: str = "float32"
    pad: float = 0.0

    def __post_init__(self):
        # JSON gives lists back; tuples keep a read-back spec equal to the written one
        self.size, self.mean, self.std = tuple(self.size), tuple(self.mean), tuple(self.std)
        if isinstance(self.crop, list):
            self.crop = tuple(self.crop)

    def preprocess_kwargs(self):
        """Keyword arguments that make edgeinfer.preprocess produce this input."""
        return dict(size=tuple(self.size), layout=self.layout, color=self.color,
                    resize=self.resize, crop=self.crop, mean=tuple(self.mean),
                    std=tuple(self.std), dtype=self.dtype, pad=self.pad)


@dataclass
class SensorInput:
    """A sliding window over a multi-channel sample stream."""
    window: int = 128
    hop: int = 64
    channels: tuple = ()
    mean: tuple = ()
    std: tuple = ()
    layout: str = "ncw"                 # "ncw", "nwc" or "flat"
    sample_rate: Optional[float] = None

    def __post_init__(self):
        self.channels, self.mean, self.std = tuple(self.channels), tuple(self.mean), tuple(self.std)


@dataclass
class ModelInfo:
    task: str = "image-classification"
    labels: list = field(default_factory=list)
    input_name: Optional[str] = None
    output_name: Optional[str] = None    # the scores output of a multi-output graph
    image: Optional[ImageInput] = None
    sensor: Optional[SensorInput] = None
    output: str = "logits"
    source: dict = field(default_factory=dict)        # framework, version, file
    verification: dict = field(default_factory=dict)  # max_abs_diff, top1_agreement, ...
    quantization: dict = field(default_factory=dict)  # empty for float models; scheme, agreement
    personalization: dict = field(default_factory=dict)  # empty unless made by personalize
    format_version: int = FORMAT_VERSION

    def to_json(self):
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text, origin="the model file"):
        try:
            data = json.loads(text)
        # text may be bytes that are not UTF-8 (protobuf hands those back raw), or
        # nested deeper than the parser recurses
        except (ValueError, RecursionError) as error:
            raise MetadataError(f"{origin}: edgeinfer metadata is not valid JSON ({error})") from None
        if not isinstance(data, dict):
            raise MetadataError(f"{origin}: edgeinfer metadata is a JSON {_json_kind(data)}, not "
                                "an object: convert the model again")
        version = data.get("format_version", 0)
        if not _is_int(version):
            raise MetadataError(f"{origin}: edgeinfer metadata key 'format_version' must be a "
                                f"whole number, got {_json_kind(version)} {json.dumps(version)}: "
                                "convert the model again")
        if version > FORMAT_VERSION:
            raise MetadataError(
                f"{origin} was written in edgeinfer model format {version}, this edgeinfer reads "
                f"up to format {FORMAT_VERSION}: upgrade with `pip install -U edgeinfer`")
        values = _known_fields(cls, data, "", origin)
        for key, kind in (("image", ImageInput), ("sensor", SensorInput)):
            if values.get(key) is not None:
                values[key] = kind(**_known_fields(kind, values[key], f"{key}.", origin))
        info = cls(**values)
        if info.task not in TASKS:
            raise MetadataError(f"{origin}: unknown task {info.task!r} (known: {', '.join(TASKS)})")
        if info.output not in OUTPUT_KINDS:
            raise MetadataError(f"{origin}: unknown output kind {info.output!r}")
        return info


# what each field may hold in JSON; a newer converter's extra keys are not here
# and are ignored with a warning, so an older runtime still reads the file
_TEXT, _NUMBER, _OBJECT = "a string", "a number", "an object"


class _OneOf(str):
    """A string field that names one of the kernels' choices: a value outside them
    would otherwise surface later as a raw error from numpy or the kernels."""

    def __new__(cls, choices):
        kind = super().__new__(cls, "one of " + ", ".join(f'"{c}"' for c in choices))
        kind.choices = tuple(choices)
        return kind


SCHEMA = {
    "": {"task": _TEXT, "labels": "a list of strings", "input_name": "a string or null",
         "output_name": "a string or null", "image": "an object or null",
         "sensor": "an object or null", "output": _TEXT, "source": _OBJECT,
         "verification": _OBJECT, "quantization": _OBJECT,
         "personalization": _OBJECT, "format_version": "a whole number"},
    "image.": {"size": "[height, width]", "layout": _OneOf(LAYOUTS),
               "color": _OneOf(dict.fromkeys(OUTPUT_COLORS + INPUT_COLORS)),
               "resize": _OneOf(RESIZE_MODES),
               "crop": "null, a number, [x, y, w, h] or \"letterbox\"",
               "mean": "a list of numbers", "std": "a list of numbers",
               "dtype": _OneOf(OUTPUT_DTYPES), "pad": _NUMBER},
    "sensor.": {"window": "a whole number", "hop": "a whole number",
                "channels": "a list of strings", "mean": "a list of numbers",
                "std": "a list of numbers", "layout": _OneOf(SENSOR_LAYOUTS),
                "sample_rate": "a number or null"},
}


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _fits(kind, value):
    if isinstance(kind, _OneOf):
        return value in kind.choices
    if kind.endswith(" or null") and value is None:
        return True
    kind = kind.replace(" or null", "")
    if kind == _TEXT:
        return isinstance(value, str)
    if kind == _NUMBER:
        return _is_number(value)
    if kind == "a whole number":
        return _is_int(value)
    if kind == _OBJECT:
        return isinstance(value, dict)
    if kind == "a list of strings":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if kind == "a list of numbers":
        return isinstance(value, list) and all(_is_number(v) for v in value)
    if kind.startswith("[height, width]"):
        return isinstance(value, list) and len(value) == 2 and all(_is_int(v) and v > 0
                                                                   for v in value)
    if kind.startswith("null, a number"):
        return value is None or value == "letterbox" or _is_number(value) or (
            isinstance(value, list) and len(value) == 4 and all(_is_number(v) for v in value))
    raise AssertionError(kind)


def _json_kind(value):
    if value is None:
        return "null"
    return {bool: "boolean", str: "string", list: "list", dict: "object"}.get(
        type(value), "number")


def _known_fields(cls, data, prefix, origin):
    """data's fields that cls has, each checked against SCHEMA; unknown ones
    are dropped with one warning."""
    if not isinstance(data, dict):
        raise MetadataError(f"{origin}: edgeinfer metadata key {prefix[:-1]!r} must be "
                            f"{SCHEMA[''][prefix[:-1]]}, got {_json_kind(data)} "
                            f"{json.dumps(data)[:60]}: convert the model again")
    known = {f.name for f in fields(cls)}
    unknown = sorted(key for key in data if key not in known)
    if unknown:
        log.warning(f"{origin}: ignoring edgeinfer metadata keys this version does not know: "
                    f"{', '.join(prefix + key for key in unknown)} (written by a newer "
                    "edgeinfer?)")
    values = {}
    for key in sorted(known & set(data)):
        kind = SCHEMA[prefix][key]
        if not _fits(kind, data[key]):
            raise MetadataError(f"{origin}: edgeinfer metadata key {prefix + key!r} must be "
                                f"{kind}, got {_json_kind(data[key])} "
                                f"{json.dumps(data[key])[:60]}: convert the model again")
        values[key] = data[key]
    return values


def read_info(model, origin="the model file"):
    """ModelInfo from an onnx.ModelProto, or None when it carries none."""
    for prop in model.metadata_props:
        if prop.key == METADATA_KEY:
            return ModelInfo.from_json(prop.value, origin)
    return None


def info_from_metadata(metadata, origin="the model file"):
    """ModelInfo from a model file's metadata as {key: text or bytes} (what
    model_file.ModelFile reads without the onnx package), or None."""
    text = metadata.get(METADATA_KEY)
    return None if text is None else ModelInfo.from_json(text, origin)


def write_info(model, info):
    """Stores info in an onnx.ModelProto, replacing what was there."""
    for prop in list(model.metadata_props):
        if prop.key == METADATA_KEY:
            model.metadata_props.remove(prop)
    entry = model.metadata_props.add()
    entry.key = METADATA_KEY
    entry.value = info.to_json()
    return model
