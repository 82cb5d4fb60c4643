"""Why the native executor cannot take a model: said at load, never mid-run."""
from ..errors import ModelError

ADVICE = "use --backend onnxruntime"


class NativeModelError(ModelError):
    """A model the native executor cannot run (operator, attribute or type)."""


def unsupported(what):
    return NativeModelError(f"the native backend cannot run {what}; {ADVICE}")
