"""Fuzzes loading a model file with the native backend: the bytes are written
to a file and opened with edgeinfer.load(path, backend="native"), and a model
that loads is run once on zeros. Clean errors: ModelError (a file that is not
ONNX, an operator or shape the native backend refuses, bad metadata)."""
import os
import tempfile

if __name__ == "__main__":
    # the same inputs must take the same paths on every run and machine: no plan
    # cache carried over from an earlier run (nor written into the user's home)
    os.environ["EDGEINFER_PLAN_CACHE"] = "0"

import numpy as np

from harness import fuzz, instrumented

with instrumented(__name__):
    # the package root is lazy: what is fuzzed is imported here, to be instrumented
    import edgeinfer
    import edgeinfer.backends.native  # noqa: F401
    import edgeinfer.model  # noqa: F401
    from edgeinfer.errors import ModelError

CLEAN_ERRORS = (ModelError,)
MAX_INPUT_ELEMENTS = 1 << 16     # running a fuzzed giant input tells nothing more
WORK = tempfile.mkdtemp(prefix="edgeinfer-fuzz-")


def one_input(data):
    path = os.path.join(WORK, "model.onnx")
    with open(path, "wb") as f:
        f.write(data)
    model = edgeinfer.load(path, backend="native")
    engine = model.backend.engine
    feed = {}
    for spec in model.backend.inputs:
        shape = tuple(1 if d is None or not isinstance(d, int) else d for d in spec.shape)
        if any(d < 0 for d in shape) or np.prod(shape, dtype=np.int64) > MAX_INPUT_ELEMENTS:
            return
        feed[spec.name] = np.zeros(shape, spec.dtype)
    engine.run(feed)


if __name__ == "__main__":
    fuzz(one_input, CLEAN_ERRORS)
