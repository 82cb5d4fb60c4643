"""The ONNX conformance cases shipped inside the onnx wheel, read as arrays."""
import glob
import os

import onnx
from onnx import numpy_helper


def read_tensors(directory, prefix):
    arrays = []
    for path in sorted(glob.glob(os.path.join(directory, f"{prefix}_*.pb")),
                       key=lambda p: int(p.rsplit("_", 1)[1].split(".")[0])):
        tensor = onnx.TensorProto()
        with open(path, "rb") as f:
            tensor.ParseFromString(f.read())
        arrays.append(numpy_helper.to_array(tensor))
    return arrays


def data_sets(case_dir):
    """[(inputs, expected outputs)] of one case directory."""
    return [(read_tensors(d, "input"), read_tensors(d, "output"))
            for d in sorted(glob.glob(os.path.join(case_dir, "test_data_set_*")))]


def pytorch_converted_dir():
    return os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data",
                        "pytorch-converted")
