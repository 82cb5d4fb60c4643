"""The golden frame: the bundled cat photo through every available backend gives
the same top-1 as a plain numpy evaluation of the same graph, and scores within
1e-4 of it. A new backend registered in edgeinfer.backends is checked here too."""
import numpy as np
import onnx
import pytest
from numpy.lib.stride_tricks import sliding_window_view
from onnx import numpy_helper

import edgeinfer
from edgeinfer import backends
from edgeinfer.errors import ModelError
from edgeinfer.run.postprocess import softmax
from tools import sample_clip

TOLERANCE = 1e-4  # on probabilities


def numpy_forward(model_path, tensor):
    """Conv(3x3, stride 2, pad 1) -> Relu -> GlobalAveragePool -> Gemm, the
    photo classifier's graph, in numpy from its stored weights."""
    graph = onnx.load(model_path).graph
    w = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in graph.initializer}
    x = np.pad(tensor.astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)))
    windows = sliding_window_view(x, (3, 3), axis=(2, 3))[:, :, ::2, ::2]  # N C H W 3 3
    conv = np.einsum("nchwij,fcij->nfhw", windows, w["conv_w"]) + w["conv_b"][None, :, None, None]
    features = np.maximum(conv, 0).mean(axis=(2, 3))
    return features @ w["fc_w"] + w["fc_b"]


@pytest.mark.parametrize("backend", [name for name, (ok, _) in backends.availability().items()
                                     if ok])
def test_golden_frame_on_every_backend(media, backend):
    model = edgeinfer.load(media["model"], backend=backend)
    photo = sample_clip.photo("chelsea")
    expected = softmax(numpy_forward(media["model"], model.prepare(photo)))[0]
    got = model.predict(photo, top_k=len(model.labels))
    assert got[0].label == "cat" and got[0].index == int(np.argmax(expected))
    np.testing.assert_allclose([p.score for p in sorted(got, key=lambda p: p.index)], expected,
                               atol=TOLERANCE)


def test_auto_prefers_the_first_available_backend(monkeypatch):
    monkeypatch.setattr(backends, "BACKENDS", {"missing": "edgeinfer.backends.not_there",
                                               **backends.BACKENDS})
    assert backends.availability()["missing"][0] is False
    assert backends.resolve("auto")[0] == "onnxruntime"
    with pytest.raises(ModelError, match="backend missing is not available"):
        backends.resolve("missing")
