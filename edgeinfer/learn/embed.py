"""Embedder: a base model's trunk (its graph cut at the embedding) run on
either backend, so frames or sensor windows become (N, D) embeddings that a
head can be trained on — by personalize, by eval's kNN baseline, by an app.

    embedder = Embedder("base.onnx")                 # or cut="tensor_name"
    X = embedder.embed([frame1, frame2])             # (2, D) float32
"""
from __future__ import annotations

import os
from dataclasses import replace

import numpy as np

from .. import backends
from ..errors import ModelError
from ..metadata import MetadataError, ModelInfo, read_info
from ..model import Model
from ..model_file import read_onnx_file
from .trunk import EMBEDDING, check_cut, default_cut, opset_of, trunk_model


class Embedder:
    """Embeddings of frames (uint8 BGR images) or sensor windows ((samples,
    channels) arrays) by a base model's trunk.

    base: the base model file. cut: the tensor to cut at (default: the input of
    the final Gemm/MatMul). backend, threads: as for edgeinfer.load.
    Attributes: info (the base model's metadata), proto (its ONNX graph),
    cut (where it was cut, with the base's last layer when cut there),
    trunk (the trunk's ONNX graph), model (the trunk as an edgeinfer Model)."""

    def __init__(self, base, cut=None, backend="auto", threads=None):
        self.path = os.fspath(base)
        self.proto = read_onnx_file(self.path)
        try:
            info = read_info(self.proto, origin=self.path)
        except MetadataError as error:
            raise ModelError(str(error)) from None
        self.has_metadata = info is not None
        self.info = info if info is not None else ModelInfo(output=None)
        self.cut = (check_cut(self.proto, cut, self.path) if cut else
                    default_cut(self.proto, self.info.output_name,
                                bool(self.info.personalization), self.path))
        self.trunk = trunk_model(self.proto, self.cut.tensor)
        self.opset = opset_of(self.proto)
        engine = backends.open_backend(self.trunk.SerializeToString(), backend, threads)
        engine.model_path = self.path   # its errors name the base file
        # the trunk takes the base's input and settings; its one output is the
        # embedding, and a name per dimension stands in for labels (a Model
        # warns about missing ones)
        trunk_info = replace(self.info, labels=[], output_name=EMBEDDING,
                             output="probabilities") if info is not None else \
            ModelInfo(output="probabilities")
        width = engine.outputs[0].shape[-1] if engine.outputs[0].shape else None
        names = [f"dim {i}" for i in range(width)] if isinstance(width, int) else ["embedding"]
        self.model = Model(self.path, engine, trunk_info, labels=names)
        self.backend = engine.name

    @property
    def is_image(self):
        return self.model.info.image is not None

    @property
    def input_shape(self):
        return self.model.input_shape

    def embed_tensor(self, tensor):
        """(N, D) embeddings of a prepared input tensor (batch axis first)."""
        return np.asarray(self.model.run(tensor), np.float32).reshape(len(tensor), -1)

    def embed(self, samples, batch=32, progress=None):
        """(N, D) float32 embeddings of frames or sensor windows, `batch` per
        backend call (one when the model's batch axis is fixed); progress(done,
        total) is called after each batch."""
        samples = list(samples)
        size = self.model._batch_size(batch)
        chunks = []
        for start in range(0, len(samples), size):
            part = samples[start:start + size]
            tensor = self.model.new_input(size if self.model.input.shape[0] else len(part))
            for i, sample in enumerate(part):
                self.model.prepare(sample, out=tensor[i:i + 1])
            tensor[len(part):] = 0
            chunks.append(self.embed_tensor(tensor)[:len(part)])
            if progress is not None:
                progress(start + len(part), len(samples))
        if not chunks:
            return np.zeros((0, 0), np.float32)
        return np.concatenate(chunks)
