"""What a model file says about itself: labels, task, how to prepare its input,
what its output means, where it came from and how it was verified.

Stored as one JSON document under the key "edgeinfer" in the ONNX model's
metadata_props, with a format version the loader checks, so an older runtime
meeting a newer file says so instead of guessing.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Optional

METADATA_KEY = "edgeinfer"
FORMAT_VERSION = 1

TASKS = ("image-classification", "sensor-classification")
OUTPUT_KINDS = ("logits", "probabilities")


class MetadataError(ValueError):
    """A model file's edgeinfer metadata is unreadable or too new."""


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
    image: Optional[ImageInput] = None
    sensor: Optional[SensorInput] = None
    output: str = "logits"
    source: dict = field(default_factory=dict)        # framework, version, file
    verification: dict = field(default_factory=dict)  # max_abs_diff, top1_agreement, ...
    quantization: dict = field(default_factory=dict)  # empty for float models; scheme, agreement
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
            raise MetadataError(f"{origin}: edgeinfer metadata is not a JSON object")
        version = data.get("format_version", 0)
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise MetadataError(
                f"{origin} was written in edgeinfer model format {version}, this edgeinfer reads "
                f"up to format {FORMAT_VERSION}: upgrade with `pip install -U edgeinfer`")
        known = set(cls.__dataclass_fields__)
        info = cls(**{k: v for k, v in data.items() if k in known})
        for name, kind in (("image", ImageInput), ("sensor", SensorInput)):
            section = getattr(info, name)
            if section is not None and not isinstance(section, dict):
                raise MetadataError(f"{origin}: edgeinfer metadata {name!r} is not a JSON object")
            try:
                setattr(info, name, None if section is None else kind(**section))
            except TypeError as error:   # an unknown field, or a list field given a number
                raise MetadataError(f"{origin}: malformed edgeinfer metadata {name!r} ({error})") \
                    from None
        if info.task not in TASKS:
            raise MetadataError(f"{origin}: unknown task {info.task!r} (known: {', '.join(TASKS)})")
        if info.output not in OUTPUT_KINDS:
            raise MetadataError(f"{origin}: unknown output kind {info.output!r}")
        return info


def read_info(model, origin="the model file"):
    """ModelInfo from an onnx.ModelProto, or None when it carries none."""
    for prop in model.metadata_props:
        if prop.key == METADATA_KEY:
            return ModelInfo.from_json(prop.value, origin)
    return None


def write_info(model, info):
    """Stores info in an onnx.ModelProto, replacing what was there."""
    for prop in list(model.metadata_props):
        if prop.key == METADATA_KEY:
            model.metadata_props.remove(prop)
    entry = model.metadata_props.add()
    entry.key = METADATA_KEY
    entry.value = info.to_json()
    return model
