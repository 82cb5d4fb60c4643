"""The native backend's load-time work kept on disk: the folded, rewritten
nodes, their constants and every tensor's shape and type for the input
shapes planned at load, so the next start of the same model builds its plan
from them instead of reading the graph, folding and rewriting again.

One .plan file per model, named by a hash of the model file's bytes, the
edgeinfer version, the planner's own source and the SIMD level the kernels
run at (any of them changing makes a new entry, so a development checkout whose planner changed under the same
version number never runs a plan the old planner made): a JSON document (the
nodes, shapes, and where each array lies) then the arrays' raw bytes, read
back in one read into writable arrays (an .npz took longer to read, through
its zip layer, than the load it saved). Numbers and JSON only, so an entry can
hold no code; a CRC-32 over everything, so a damaged entry is noticed. Written
to a temporary file and renamed into place, so a reader never sees half an
entry; an entry that cannot be read is ignored and written again.

Where: $EDGEINFER_CACHE_DIR, else $XDG_CACHE_HOME/edgeinfer, else
~/.cache/edgeinfer (in a `plans` folder). EDGEINFER_PLAN_CACHE=0 turns it off."""
from __future__ import annotations

import functools
import hashlib
import json
import os
import struct
import tempfile
import zlib

import numpy as np

from ..core.loader import core
from ..version import __version__
from .graph import Node, TensorInfo

# The entry's own layout (what the JSON document holds); a planner change alone
# needs no bump, planner_fingerprint keys it. 2: one raw .plan file with a CRC-32;
# 3: depthwise QuantizedConv and QuantizedAdd steps; 4: int8 plans fold
# saturated-bias channels and run dense Gemms as QuantizedConv; 5: LeakyRelu after a
# Conv runs in the Conv's step; 6: the int8 region channels-last (QuantizedConv
# channels_last, ChannelsLast steps at its edges)
FORMAT = 6
MAGIC = b"edgeinfer plan\n"
HEADER = struct.Struct("<15sQI")    # magic, JSON length, CRC-32 of what follows the header
ALIGN = 64


def cache_dir():
    """The folder entries go in, or None when the cache is off."""
    if os.environ.get("EDGEINFER_PLAN_CACHE", "1").strip().lower() in ("0", "off", "no", "false"):
        return None
    root = os.environ.get("EDGEINFER_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "edgeinfer")
    return os.path.join(root, "plans")


@functools.lru_cache(maxsize=1)
def planner_fingerprint():
    """A hash of the Python source that folds, rewrites and plans a graph (this
    package and its ops, and the kernel arguments and numpy twins it computes
    constants with): what a plan holds follows from it. A file that cannot be
    read (a build without sources) leaves the version and FORMAT as the key."""
    digest = hashlib.blake2b(digest_size=16)
    root = os.path.dirname(os.path.abspath(__file__))
    package = os.path.dirname(root)
    for folder in (root, os.path.join(root, "ops"), os.path.join(package, "kernels"),
                   os.path.join(package, "reference")):
        try:
            names = sorted(n for n in os.listdir(folder) if n.endswith(".py"))
        except OSError:
            continue
        for name in names:
            try:
                with open(os.path.join(folder, name), "rb") as f:
                    digest.update(name.encode() + b"\0" + f.read())
            except OSError:
                continue
    return digest.hexdigest()


def entry_path(data):
    """Where the entry for the model file holding `data` lives, or None (cache off)."""
    folder = cache_dir()
    if folder is None:
        return None
    digest = hashlib.blake2b(data, digest_size=20)
    # the SIMD level too: the planner lays int8 regions out for the vector unit it runs on
    digest.update(f"edgeinfer {__version__} plan format {FORMAT} "
                  f"planner {planner_fingerprint()} simd {core.simd_active()}".encode())
    return os.path.join(folder, digest.hexdigest() + ".plan")


def _tensor_infos(items):
    return [TensorInfo(name, None if shape is None else tuple(shape), np.dtype(dtype))
            for name, shape, dtype in items]


def _read(path):
    """(JSON document, {key: array}) of the entry at path; ValueError when damaged."""
    with open(path, "rb") as f:
        data = bytearray(os.fstat(f.fileno()).st_size)
        f.readinto(data)
    if len(data) < HEADER.size:
        raise ValueError("shorter than its header")
    magic, size, crc = HEADER.unpack_from(data)
    if magic != MAGIC or zlib.crc32(memoryview(data)[HEADER.size:]) != crc:
        raise ValueError("not a plan, or damaged")
    doc = json.loads(bytes(data[HEADER.size:HEADER.size + size]))
    start, arrays = _data_start(size), {}
    for key, (offset, dtype, shape) in doc["arrays"].items():
        dtype = np.dtype(dtype)
        if dtype.kind not in "biuf":
            raise ValueError("an array of another kind than numbers")
        count = int(np.prod(shape, dtype=np.int64))
        # a writable view of the one buffer read (frombuffer refuses to read past its end)
        arrays[key] = np.frombuffer(data, dtype, count, start + offset).reshape(shape)
    return doc, arrays


def load(path):
    """The cached load-time plan at path: {"inputs", "outputs", "opset", "shapes",
    "nodes", "constants", "info"}, or None when there is none or it is unreadable."""
    if path is None or not os.path.isfile(path):
        return None
    try:
        doc, arrays = _read(path)
        if doc.get("format") != FORMAT or doc.get("version") != __version__:
            return None
        nodes = []
        for op, inputs, outputs, attrs, name, domain in doc["nodes"]:
            attrs = {key: arrays[value["array"]] if isinstance(value, dict) else value
                     for key, value in attrs.items()}
            nodes.append(Node(op, inputs, outputs, attrs, name, domain))
        return {"inputs": _tensor_infos(doc["inputs"]), "outputs": _tensor_infos(doc["outputs"]),
                "opset": doc["opset"],
                "shapes": {name: tuple(shape) for name, shape in doc["shapes"].items()},
                "nodes": nodes,
                "constants": {name: arrays[key] for name, key in doc["constants"].items()},
                "info": {name: (tuple(shape), np.dtype(dtype))
                         for name, (shape, dtype) in doc["info"].items()}}
    except Exception:   # damaged, truncated or from another layout: rebuilt by the caller
        return None


def _plain(value):
    """An attribute value as JSON holds it (numpy numbers as Python ones)."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def save(path, graph, shapes, plan):
    """Writes the plan built for `shapes` of `graph` to path, atomically; a cache
    that cannot be written (read-only home, full disk) only costs the next start."""
    if path is None:
        return
    arrays, nodes = {}, []
    for node in plan.nodes:
        attrs = {}
        for key, value in node.attrs.items():
            if isinstance(value, np.ndarray):
                arrays[f"attr{len(arrays)}"] = value
                attrs[key] = {"array": f"attr{len(arrays) - 1}"}
            else:
                attrs[key] = _plain(value)
        nodes.append([node.op, node.inputs, node.outputs, attrs, node.name, node.domain])
    constants = {}
    for name, value in plan.constants.items():
        constants[name] = f"const{len(constants)}"
        arrays[constants[name]] = value

    def infos(items):
        return [[t.name, None if t.shape is None else list(t.shape), t.dtype.str] for t in items]

    doc = {"format": FORMAT, "version": __version__, "opset": graph.opset,
           "inputs": infos(graph.inputs), "outputs": infos(graph.outputs),
           "shapes": {name: list(shape) for name, shape in shapes.items()},
           "nodes": nodes, "constants": constants,
           "info": {name: [list(shape), np.dtype(dtype).str]
                    for name, (shape, dtype) in plan.info.items()}}
    try:
        _write(path, doc, arrays)
    except (OSError, TypeError, ValueError):
        pass


def _data_start(text_size):
    start = HEADER.size + text_size
    return start + (-start % ALIGN)


def _write(path, doc, arrays):
    """The entry: header, JSON, then each array's bytes at an aligned offset (counted
    from the first aligned byte after the JSON)."""
    arrays = {key: np.asarray(value, order="C") for key, value in arrays.items()}
    doc["arrays"], offset = {}, 0
    for key, value in arrays.items():
        doc["arrays"][key] = [offset, value.dtype.str, list(value.shape)]
        offset += value.nbytes + (-value.nbytes % ALIGN)
    text = json.dumps(doc).encode()
    chunks = [text, b" " * (_data_start(len(text)) - HEADER.size - len(text))]
    for value in arrays.values():
        chunks += [value.tobytes(), b"\0" * (-value.nbytes % ALIGN)]
    crc = 0
    for chunk in chunks:
        crc = zlib.crc32(chunk, crc)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as f:
            f.write(HEADER.pack(MAGIC, len(text), crc))
            for chunk in chunks:
                f.write(chunk)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
