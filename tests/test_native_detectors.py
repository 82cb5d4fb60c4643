"""Detector-shaped models on the native backend within 1e-4 of onnxruntime:
MTCNN's three stages (PRelu, MaxPool, Conv, Gemm, Softmax; P-Net at any
input size) and a YOLOv8n-style detector (Conv+SiLU, Split, Concat, nearest
Resize, SPPF MaxPools, a detect head of Reshape/Transpose/Softmax), seeded
torch modules exported in the test. Skipped without torch."""
import tracemalloc

import numpy as np
import pytest

torch = pytest.importorskip("torch")
ort = pytest.importorskip("onnxruntime")

from edgeinfer.native import NativeBackend  # noqa: E402

from tools.torch_exports import export  # noqa: E402
from torch_detectors import ONet, PNet, RNet, YoloV8Style, seeded  # noqa: E402

TOLERANCE = 1e-4    # max abs difference to onnxruntime, every output


def assert_runs_allocate_only_outputs(backend, x):
    """The new operators write into planned buffers: a run allocates its outputs
    (and a few small Python objects), nothing the size of a tensor."""
    backend.run({"input": x})
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        outputs = backend.run({"input": x})
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert peak < sum(o.nbytes for o in outputs) + 16 * 1024


def compare(path, x):
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    want = session.run(None, {session.get_inputs()[0].name: x})
    backend = NativeBackend(path)
    got = backend.run({"input": x})
    assert [g.shape for g in got] == [w.shape for w in want]
    for g, w in zip(got, want):
        assert np.max(np.abs(g - w)) <= TOLERANCE
    return backend


@pytest.mark.parametrize("stage,shape", [(RNet, (2, 3, 24, 24)), (ONet, (1, 3, 48, 48))])
def test_mtcnn_stage_matches_onnxruntime(stage, shape, tmp_path):
    path = export(seeded(stage), torch.zeros(shape), str(tmp_path / "stage.onnx"), "legacy")
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    backend = compare(path, x)
    left = backend.plan_summary()["operators"]
    assert {"PRelu", "MaxPool", "Conv", "Gemm", "Softmax"} <= set(left)
    assert_runs_allocate_only_outputs(backend, x)


def test_mtcnn_pnet_at_every_pyramid_size(tmp_path):
    """P-Net runs on an image pyramid: free height and width, one plan per size."""
    path = str(tmp_path / "pnet.onnx")
    with torch.no_grad():
        torch.onnx.export(seeded(PNet), torch.zeros(1, 3, 24, 24), path, dynamo=False,
                          opset_version=17, input_names=["input"],
                          dynamic_axes={"input": {2: "height", 3: "width"}})
    rng = np.random.default_rng(2)
    for size in ((12, 12), (30, 37), (61, 45)):
        compare(path, rng.standard_normal((1, 3) + size).astype(np.float32))


@pytest.mark.parametrize("exporter", ["legacy", "dynamo"])
def test_yolov8_style_detector_matches_onnxruntime(exporter, tmp_path):
    if exporter == "dynamo":
        pytest.importorskip("onnxscript")
    model = seeded(YoloV8Style)
    path = export(model, torch.zeros(1, 3, 64, 64), str(tmp_path / "yolo.onnx"), exporter)
    x = np.random.default_rng(3).standard_normal((1, 3, 64, 64)).astype(np.float32)
    backend = compare(path, x)
    with torch.no_grad():
        reference = model(torch.from_numpy(x)).numpy()
    assert np.max(np.abs(backend.run({"input": x})[0] - reference)) <= TOLERANCE
    left = backend.plan_summary()["operators"]
    # every conv's SiLU runs in its conv's step; the only Sigmoid left is the class scores'
    assert left["Conv+silu"] >= 50 and left.get("Sigmoid") == 1 and "Swish" not in left
    assert {"Split", "Concat", "Resize", "MaxPool", "Softmax", "Transpose"} <= set(left)
    assert_runs_allocate_only_outputs(backend, x)
