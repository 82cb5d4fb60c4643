"""The native graph executor: ONNX models on edgeinfer's compiled core and
numpy alone (no onnxruntime, no framework), for boards onnxruntime does not
ship for. Load-time work (constant folding, fusion, a static memory plan) is
done once; a run is a loop of kernel calls into fixed buffers."""
from .backend import NativeBackend, profile_by_operator
from .errors import NativeModelError

__all__ = ["NativeBackend", "NativeModelError", "profile_by_operator"]
