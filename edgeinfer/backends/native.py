"""The native backend: edgeinfer's own graph executor over the C core
(edgeinfer.native). Needs only numpy and onnx, so it runs where onnxruntime
has no wheel (32-bit ARM)."""
from __future__ import annotations

from ..native import NativeBackend, NativeModelError
from .onnxruntime import TensorSpec    # the spec type only; onnxruntime itself is not imported

NAME = "native"


def is_available():
    return True, "built in"


class Backend:
    """Backend(model_path, threads=None): .inputs, .outputs (TensorSpec lists),
    .run({input name: array}) -> [outputs]."""
    name = NAME

    def __init__(self, model_path, threads=None):
        self.model_path = model_path
        self.engine = NativeBackend(model_path, threads=threads)
        graph = self.engine.graph
        self.inputs = [TensorSpec(t.name, tuple(t.shape or ()), t.dtype.type)
                       for t in graph.inputs]
        self.outputs = [TensorSpec(t.name, tuple(t.shape or ()), t.dtype.type)
                        for t in graph.outputs]
        self.threads = threads

    def run(self, feed):
        return self.engine.run(feed)

    def profile(self, feed, repeat=10):
        return self.engine.profile(feed, repeat)


__all__ = ["NAME", "Backend", "NativeBackend", "NativeModelError", "TensorSpec", "is_available"]
