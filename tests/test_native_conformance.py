"""The native backend against the ONNX conformance cases shipped in the onnx
wheel: every node case whose operators are all ones the native backend
promises (OPERATORS), through an onnx.backend.base.Backend, plus the
pytorch-converted cases for Conv, pooling, BatchNormalization and Softmax.

The native executor plans for fixed shapes, so operator parameters that real
models carry as constants (Reshape's shape, Pad's pads, Squeeze's axes, Clip's
bounds, Gather's indices ...) must be constants at load. The conformance cases
feed them as graph inputs; the test backend makes every graph input that is
never a node's first input an initializer, with the data set's value, before
loading — the values still come from the case and the outputs are still
checked against the case's expected outputs."""
import os
import warnings

import numpy as np
import onnx
import pytest
from onnx import numpy_helper
from onnx.backend.base import Backend, BackendRep

from edgeinfer.native import NativeBackend, NativeModelError

from onnx_cases import data_sets, pytorch_converted_dir

OPERATORS = {"Conv", "Relu", "Clip", "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Add",
             "Sub", "Mul", "Div", "MaxPool", "AveragePool", "GlobalAveragePool", "ReduceMean",
             "Gemm", "MatMul", "Flatten", "Reshape", "Squeeze", "Unsqueeze", "Transpose", "Concat",
             "Pad", "Softmax", "BatchNormalization", "Identity", "Dropout", "Constant",
             "PRelu", "Resize", "Upsample", "Split", "Slice"}

# Cases of those operators left out, and why. Each says what the native
# backend does instead: refuse the model at load with a message naming the
# operator and "use --backend onnxruntime".
EXCLUDED = {
    # training-time behaviour, never in an exported classifier
    "test_batchnorm_example_training_mode": "training mode",
    "test_batchnorm_epsilon_training_mode": "training mode",
    "test_training_dropout": "training mode (random mask)",
    "test_training_dropout_default": "training mode (random mask)",
    "test_training_dropout_mask": "training mode (random mask)",
    "test_training_dropout_default_mask": "training mode (random mask)",
    "test_training_dropout_zero_ratio_mask": "Dropout mask output",
    "test_dropout_default_mask": "Dropout mask output",
    "test_dropout_default_mask_ratio": "Dropout mask output",
    # sequence and optional values: classifiers pass tensors only
    "test_identity_sequence": "sequence type",
    "test_identity_opt": "optional type",
    "test_maxpool_with_argmax_2d_precomputed_pads": "MaxPool Indices output",
    "test_maxpool_with_argmax_2d_precomputed_strides": "MaxPool Indices output",
    # the C kernels are float32 (what classifiers run in); integer division
    # truncates in ONNX and floors in numpy
    "test_maxpool_2d_uint8": "uint8 pooling",
    "test_clip_default_int8_min": "int8 Clip",
    "test_clip_default_int8_max": "int8 Clip",
    "test_clip_default_int8_inbounds": "int8 Clip",
    "test_div_int8": "integer Div", "test_div_int16": "integer Div",
    "test_div_int32_trunc": "integer Div", "test_div_uint8": "integer Div",
    "test_div_uint16": "integer Div", "test_div_uint32": "integer Div",
    "test_div_uint64": "integer Div",
}
EXCLUDED_PATTERNS = {
    "cubic": "Resize in cubic mode (nearest and linear only)",
    "antialias": "Resize shrinking with antialias (nearest and linear only)",
    "3d": "3-D pooling / convolution (no 3-D kernels: image and sensor models are 1-D and 2-D)",
}


def exclusion(name):
    if name in EXCLUDED:
        return EXCLUDED[name]
    for pattern, reason in EXCLUDED_PATTERNS.items():
        if pattern in name:
            return reason
    return None


def freeze_parameters(model, inputs):
    """The model with every input that is never a node's first input turned
    into an initializer holding `inputs`' value for it."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    firsts = {n.input[0] for n in model.graph.node if n.input}
    names = [i.name for i in model.graph.input]
    frozen = {name: value for name, value in zip(names, inputs) if name not in firsts}
    for name, value in frozen.items():
        model.graph.initializer.append(numpy_helper.from_array(np.asarray(value), name))
    kept = [i for i in model.graph.input if i.name not in frozen]
    del model.graph.input[:]
    model.graph.input.extend(kept)
    return model, [v for n, v in zip(names, inputs) if n not in frozen]


class NativeRep(BackendRep):
    def __init__(self, model):
        self.model = model

    def run(self, inputs, **kwargs):
        model, fed = freeze_parameters(self.model, inputs)
        return NativeBackend(model).run(fed)


class NativeTestBackend(Backend):
    @classmethod
    def prepare(cls, model, device="CPU", **kwargs):
        return NativeRep(model)

    @classmethod
    def supports_device(cls, device):
        return device == "CPU"


def node_cases():
    from onnx.backend.test.loader import load_model_tests

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cases = load_model_tests(kind="node")
    selected = []
    for case in cases:
        ops = {n.op_type for n in case.model.graph.node}
        if not ops <= OPERATORS:
            continue
        reason = exclusion(case.name)
        marks = [pytest.mark.skip(reason=f"excluded: {reason}")] if reason else []
        selected.append(pytest.param(case, id=case.name, marks=marks))
    return selected


@pytest.mark.parametrize("case", node_cases())
def test_node_case(case):
    rep = NativeTestBackend.prepare(case.model)
    for inputs, expected in case.data_sets:
        outputs = rep.run(inputs)
        assert len(outputs) == len(expected)
        for got, want in zip(outputs, expected):
            assert got.shape == want.shape
            np.testing.assert_allclose(got, want, rtol=case.rtol, atol=case.atol)


def test_excluded_cases_are_refused_at_load():
    """What the backend cannot do it says at load, naming onnxruntime."""
    from onnx.backend.test.loader import load_model_tests

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cases = {c.name: c for c in load_model_tests(kind="node")
             if c.name in EXCLUDED and "type" not in EXCLUDED[c.name]}
    assert cases
    for name, case in cases.items():
        inputs = case.data_sets[0][0]
        model, _ = freeze_parameters(case.model, inputs)
        with pytest.raises(NativeModelError, match="use --backend onnxruntime"):
            NativeBackend(model)


def pytorch_converted_cases():
    """Every pytorch-converted case whose operators are all in OPERATORS."""
    root = pytorch_converted_dir()
    params = []
    for name in sorted(os.listdir(root)):
        case_dir = os.path.join(root, name)
        model = onnx.load(os.path.join(case_dir, "model.onnx"))
        if {n.op_type for n in model.graph.node} <= OPERATORS:
            reason = exclusion(name)
            marks = [pytest.mark.skip(reason=f"excluded: {reason}")] if reason else []
            params.append(pytest.param(case_dir, id=name, marks=marks))
    return params


@pytest.mark.parametrize("case_dir", pytorch_converted_cases())
def test_pytorch_converted_case(case_dir):
    model = onnx.load(os.path.join(case_dir, "model.onnx"))
    backend = NativeBackend(model)
    for inputs, expected in data_sets(case_dir):
        outputs = backend.run(inputs)
        for got, want in zip(outputs, expected):
            np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-5)


def test_pytorch_converted_cases_are_on_disk():
    present = {os.path.basename(p.values[0]) for p in pytorch_converted_cases()}
    assert {"test_Conv2d", "test_MaxPool2d", "test_AvgPool2d", "test_BatchNorm2d_eval",
            "test_Softmax"} <= present
