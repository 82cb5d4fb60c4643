"""Backends execute a model's ONNX graph. Each is a module here with the same
small interface: available() -> (bool, reason); can_run(model) -> "yes" or
"no (why)"; and Backend(model, threads=None) with .inputs, .outputs
(TensorSpec lists) and .run(feed), where model is a path, serialized bytes or
a model_file.ModelFile (the file read once by load). BACKENDS lists them in
order of preference, which is the order "auto" tries them."""
import importlib

from ..errors import ModelError
from .devices import provider_for, short_name

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
            result[name] = _module(name).available()
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


def open_backend(model, name="auto", threads=None, device=None):
    """A ready backend instance for an ONNX model (path, bytes or ModelFile);
    device (--device: cpu, cuda, openvino ...) picks onnxruntime's execution
    provider, and with "auto" onnxruntime itself for any device but the CPU."""
    if device is None or short_name(device) == "cpu":
        name, module = resolve(name)
        return module.Backend(model, threads=threads)
    if name not in ("auto", "onnxruntime"):
        raise ModelError(f"--device {device} runs through onnxruntime's execution providers; "
                         f"the {name} backend runs on the CPU: leave out --backend or --device")
    provider = provider_for(device)
    return resolve("onnxruntime")[1].Backend(model, threads=threads, provider=provider)
