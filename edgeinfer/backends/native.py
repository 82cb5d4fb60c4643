"""The native backend: edgeinfer's own graph executor over the C core
(edgeinfer.native). Needs only numpy and onnx, so it runs where onnxruntime
has no wheel (32-bit ARM)."""
from __future__ import annotations

from ..core.runtime import default_threads
from ..errors import ModelError
from ..native import NativeBackend, NativeModelError, profile_by_operator
from .tensor_spec import TensorSpec

NAME = "native"


def available():
    return True, "built in"


def can_run(model):
    """"yes", or "no (why)", for a model path, ModelFile, ModelProto or serialized
    bytes: everything the native backend checks at load, without running it."""
    try:
        NativeBackend(model)
    except ModelError as error:   # unsupported, unreadable, or larger than the memory limit
        reason = str(error).split("; use --backend")[0]
        return f"no ({reason[:160]})"
    return "yes"


class Backend:
    """Backend(model, threads=None), model a path, bytes or ModelFile: .inputs,
    .outputs (TensorSpec lists), .run({input name: array}) -> [outputs]."""
    name = NAME

    def __init__(self, model, threads=None):
        self.engine = NativeBackend(model, threads=threads)
        self.model_path = self.engine.origin
        self.inputs = [TensorSpec(t.name, tuple(t.shape or ()), t.dtype.type)
                       for t in self.engine.inputs]
        self.outputs = [TensorSpec(t.name, tuple(t.shape or ()), t.dtype.type)
                        for t in self.engine.outputs]
        self.threads = threads
        self.provider = "cpu"

    @property
    def thread_count(self):
        """Threads a run uses: those asked for (or the core's default), fewer
        for a model with too little work to share (native/work.py)."""
        return self.engine.threads_used or (int(self.threads) if self.threads
                                            else default_threads())

    @property
    def threads_settled(self):
        """False until a free-size model's first frame: thread_count is then the most it may use."""
        return self.engine.threads_used is not None

    def run(self, feed):
        return self.engine.run(feed)

    def profile(self, feed, repeat=10):
        """Per operator kind over `repeat` runs of `feed`: [{"op", "calls", "ms"}],
        slowest first."""
        rows = profile_by_operator(self.engine.profile(feed, repeat))
        return [{"op": op, "calls": calls, "ms": ms} for op, calls, ms in rows]


__all__ = ["NAME", "Backend", "NativeBackend", "NativeModelError", "TensorSpec", "can_run",
           "available"]
