"""Why the native executor cannot take a model: said at load, never mid-run."""
from ..errors import UserError

ADVICE = "use --backend onnxruntime"


class NativeModelError(UserError):
    """A model the native executor cannot run (operator, attribute or type)."""


def unsupported(what):
    return NativeModelError(f"the native backend cannot run {what}; {ADVICE}")
