"""Backends execute a model's ONNX graph. Each is a module here with
is_available() -> (bool, reason) and a Backend class; BACKENDS lists them in
order of preference, which is the order "auto" tries them."""
import importlib

from ..errors import ModelError

# name -> module under edgeinfer.backends. onnxruntime first: where it installs
# it is the faster; the native executor runs everywhere else (32-bit ARM)
BACKENDS = {
    "onnxruntime": "onnxruntime",
    "native": "native",
}


def _module(name):
    return importlib.import_module(f"{__name__}.{BACKENDS[name]}")


def availability():
    """{name: (available, reason)} for every registered backend."""
    result = {}
    for name in BACKENDS:
        try:
            result[name] = _module(name).is_available()
        except ImportError as error:
            result[name] = (False, str(error))
    return result


def resolve(name="auto"):
    """The backend module to use for `name`, or a ModelError saying why none fits."""
    if name == "auto":
        reasons = []
        for candidate, (ok, reason) in availability().items():
            if ok:
                return candidate, _module(candidate)
            reasons.append(f"{candidate}: {reason}")
        raise ModelError("no inference backend is available (" + "; ".join(reasons) + "): "
                         "install onnxruntime with `pip install onnxruntime`")
    if name not in BACKENDS:
        raise ModelError(f"unknown backend {name!r}: choose one of auto, {', '.join(BACKENDS)}")
    ok, reason = availability()[name]
    if not ok:
        raise ModelError(f"backend {name} is not available here ({reason}); try --backend auto")
    return name, _module(name)


def open_backend(model_path, name="auto", threads=None):
    """A ready backend instance for the ONNX file at model_path."""
    name, module = resolve(name)
    return module.Backend(model_path, threads=threads)
