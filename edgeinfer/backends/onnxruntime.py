"""The onnxruntime backend: an InferenceSession over the model file, on the CPU
or the execution provider --device names (devices.py).
Nothing here imports `onnx`: the memory pre-check reads the file with the
protobuf-free reader, and onnxruntime parses the graph itself."""
from __future__ import annotations

import warnings

import numpy as np

from ..errors import ModelError
from ..model_file import open_model_file
from .devices import CPU, physical_cores, session_providers, short_name
from .onnx_memory import check_model_memory
from .tensor_spec import TensorSpec

NAME = "onnxruntime"

# ONNX tensor type names as onnxruntime reports them -> numpy dtypes
DTYPES = {"tensor(float)": np.float32, "tensor(uint8)": np.uint8, "tensor(int8)": np.int8,
          "tensor(float16)": np.float16, "tensor(double)": np.float64}


def available():
    try:
        import onnxruntime  # noqa: F401
    except ImportError as error:
        return False, f"onnxruntime is not installed ({error})"
    return True, "installed"


def version():
    import onnxruntime

    return onnxruntime.__version__


def _spec(node):
    shape = tuple(d if isinstance(d, int) and d > 0 else None for d in node.shape)
    return TensorSpec(node.name, shape, DTYPES.get(node.type))


def _first_line(error):
    text = str(error).strip()
    return text.splitlines()[0][:300] if text else type(error).__name__


def can_run(model):
    """"yes", or "no (why)", for a model path, bytes or ModelFile: onnxruntime runs
    every standard operator, so only a missing install or the memory pre-check
    refuses it ahead of loading."""
    ok, reason = available()
    if not ok:
        return f"no ({reason})"
    try:
        model = open_model_file(model)
        with model.reading():
            check_model_memory(model.data, model.origin, model.wire)
    except ModelError as error:
        return f"no ({str(error)[:160]})"
    return "yes"


class Backend:
    """Backend(model, threads=None, provider=None), model a path, bytes or
    ModelFile: .inputs, .outputs (TensorSpec lists), .run({input name: array})
    -> [outputs]; .provider the execution provider it runs on."""
    name = NAME

    def __init__(self, model, threads=None, provider=None):
        import onnxruntime as ort

        model = open_model_file(model)
        # the session folds constants as it is created: check before, not after
        with model.reading():
            check_model_memory(model.data, model.origin, model.wire)
        model_path = model.origin

        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = int(threads)
        # one frame at a time: parallelism inside operators, none between them
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3
        # idle workers spinning for work take the cores the capture thread and
        # other programs need on a small board; waking them costs microseconds
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        provider = provider or CPU
        try:
            with warnings.catch_warnings():
                # a provider that cannot start is a warning there; the check below says it once
                warnings.simplefilter("ignore")
                # from the path when there is one, so external data is found beside it
                self.session = ort.InferenceSession(model.path or model.data,
                                                    sess_options=options,
                                                    providers=session_providers(provider))
        except Exception as error:  # onnxruntime raises its own untyped errors
            raise ModelError(f"onnxruntime cannot load {model_path}"
                             f"{'' if provider == CPU else ' on ' + short_name(provider)}: "
                             f"{_first_line(error)}") from None
        if self.session.get_providers()[0] != provider:
            # onnxruntime falls back to the CPU quietly when a device does not start
            raise ModelError(f"onnxruntime could not start {provider} for {model_path} (its "
                             "drivers or libraries are missing?); leave out --device to run "
                             "on the CPU")
        self.provider = provider
        self.model_path = model_path
        self.inputs = [_spec(i) for i in self.session.get_inputs()]
        self.outputs = [_spec(o) for o in self.session.get_outputs()]
        self.threads = threads
        # onnxruntime's own default on the CPU is a thread per physical core: said as
        # that number; None only where another device does the work
        self.thread_count = int(threads) if threads else (
            physical_cores() if provider == CPU else None)

    def run(self, feed):
        """Runs the graph on {input name: array}; returns the list of outputs."""
        try:
            return self.session.run(None, feed)
        except Exception as error:
            shapes = ", ".join(f"{k} {tuple(v.shape)} {v.dtype}" for k, v in feed.items())
            raise ModelError(f"{self.model_path} cannot run on input {shapes}: "
                             f"{_first_line(error)}") from None
