"""The onnxruntime backend: a CPU InferenceSession over the model file."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ModelError

NAME = "onnxruntime"

# ONNX tensor type names as onnxruntime reports them -> numpy dtypes
DTYPES = {"tensor(float)": np.float32, "tensor(uint8)": np.uint8, "tensor(int8)": np.int8,
          "tensor(float16)": np.float16, "tensor(double)": np.float64}


@dataclass(frozen=True)
class TensorSpec:
    name: str
    shape: tuple        # ints for fixed axes, None for free ones
    dtype: object       # numpy dtype, or None for types the runtime cannot feed


def is_available():
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


class Backend:
    name = NAME

    def __init__(self, model_path, threads=None):
        import onnx
        import onnxruntime as ort

        from .onnx_memory import check_model_memory

        try:
            proto = onnx.load(model_path, load_external_data=False)
        except Exception:   # onnxruntime says below what is wrong with the file
            proto = None
        if proto is not None:
            # the session folds constants as it is created: check before, not after
            check_model_memory(proto, model_path)

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
        try:
            self.session = ort.InferenceSession(model_path, sess_options=options,
                                                providers=["CPUExecutionProvider"])
        except Exception as error:  # onnxruntime raises its own untyped errors
            raise ModelError(f"onnxruntime cannot load {model_path}: "
                             f"{_first_line(error)}") from None
        self.model_path = model_path
        self.inputs = [_spec(i) for i in self.session.get_inputs()]
        self.outputs = [_spec(o) for o in self.session.get_outputs()]
        self.threads = threads

    def run(self, feed):
        """Runs the graph on {input name: array}; returns the list of outputs."""
        try:
            return self.session.run(None, feed)
        except Exception as error:
            shapes = ", ".join(f"{k} {tuple(v.shape)} {v.dtype}" for k, v in feed.items())
            raise ModelError(f"{self.model_path} cannot run on input {shapes}: "
                             f"{_first_line(error)}") from None
