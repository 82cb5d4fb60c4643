"""Reading a model file: an ONNX graph, or one line saying what the file is
instead. Files from the frameworks edgeinfer converts from (Keras HDF5 and
.keras, TFLite, TorchScript, PyTorch pickles) are told by their first bytes
and pointed to `edgeinfer convert`; `load` and `inspect` read through here so
they agree on every file.

`open_model_file` reads the file once and skims its top level without the
`onnx` package (see backends/onnx_wire.py): the metadata and the graph's
presence are known at once, and each backend parses the same bytes its own
way (onnxruntime in C++, the native backend through the same wire reader when
it builds its graph)."""
from __future__ import annotations

import os
import zipfile
from contextlib import contextmanager

from .backends.onnx_wire import Model as WireModel, WireError
from .errors import ModelError

CONVERT = "convert it first with `edgeinfer convert {path} -o model.onnx`"


def _zip_kind(path):
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return "a zip archive"
    if "config.json" in names and any(n.endswith(".weights.h5") for n in names):
        return "a Keras 3 model (.keras)"
    if any(n.endswith("data.pkl") or n.endswith("constants.pkl") for n in names):
        return "a PyTorch / TorchScript archive"
    return "a zip archive"


def foreign_format(path):
    """What kind of non-ONNX model file path is, from its magic bytes; None
    when it is none edgeinfer knows (it may be ONNX, or just damaged)."""
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except OSError:
        return None
    if head.startswith(b"\x89HDF\r\n\x1a\n"):
        return "a Keras HDF5 model (.h5)"
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(path)
    if head[4:8] == b"TFL3":
        return "a TensorFlow Lite model (.tflite)"
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return "a Python pickle (a PyTorch torch.save file?)"
    return None


def not_onnx(path, reason):
    """The ModelError for a file onnx cannot read: what it is, and what to do."""
    kind = foreign_format(path)
    if kind is not None:
        return ModelError(f"{path} is {kind}, not an ONNX model: {CONVERT.format(path=path)}")
    return ModelError(f"{path} is not a readable ONNX model ({reason}): it may be truncated or "
                      "another kind of file; export or convert it again")


def first_line(error):
    text = str(error).strip()
    return text.splitlines()[0][:200] if text else type(error).__name__


def _check_path(path):
    if not os.path.exists(path):
        raise ModelError(f"model file {path} does not exist: check the path, or make one with "
                         "`edgeinfer convert`")
    if not os.path.isfile(path):
        raise ModelError(f"model path {path} is not a file: give the .onnx file itself")
    if foreign_format(path) is not None:
        raise not_onnx(path, "")


def _no_graph(path):
    return ModelError(f"{path} holds no ONNX graph (empty or not an ONNX file): export or "
                      "convert the model again")


class ModelFile:
    """An ONNX file read once: its bytes, where they came from (`path`, None for
    bytes given in memory), its metadata ({key: bytes}) and, on demand, the
    graph's fields (`wire`)."""

    def __init__(self, data, path=None):
        self.data = data
        self.path = path
        self.origin = path if path is not None else "the model"
        with self.reading():
            self.wire = WireModel(data)
            if not self.wire.has_graph:
                raise _no_graph(self.origin)
            self.metadata = self.wire.metadata

    @contextmanager
    def reading(self):
        """Around every use of `wire`: its fields are decoded when first read, so
        damage anywhere in the file surfaces there, as one ModelError naming it."""
        try:
            yield
        except WireError as error:
            if self.path is None:
                raise ModelError(f"the model is not a readable ONNX model ({error})") from None
            raise not_onnx(self.path, str(error)) from None


def open_model_file(source):
    """A ModelFile from a path, serialized bytes or a ModelFile; ModelError (one
    line) for a missing, foreign, damaged or empty file."""
    if isinstance(source, ModelFile):
        return source
    if isinstance(source, (bytes, bytearray, memoryview)):
        return ModelFile(bytes(source))
    path = os.fspath(source)
    _check_path(path)
    with open(path, "rb") as f:
        data = f.read()
    return ModelFile(data, path)


def read_onnx_file(path, load_external_data=False):
    """The onnx.ModelProto in the file at path, or ModelError (one line)."""
    import onnx

    path = os.fspath(path)
    _check_path(path)
    try:
        proto = onnx.load(path, load_external_data=load_external_data)
    except Exception as error:
        raise not_onnx(path, first_line(error)) from None
    if len(proto.graph.node) == 0 or len(proto.graph.output) == 0:
        raise _no_graph(path)
    return proto
