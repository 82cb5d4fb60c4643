import os

import cv2
import numpy as np
import pytest

import edgeinfer
from tools import tiny_models

DEMO_MODEL = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "models",
                          "efficientnet-lite0.onnx")


@pytest.fixture(autouse=True)
def one_thread():
    """Every comparison is on one core: ours, the references and OpenCV."""
    before = edgeinfer.get_num_threads()
    cv_before = cv2.getNumThreads()
    edgeinfer.set_num_threads(1)
    cv2.setNumThreads(1)
    yield
    edgeinfer.set_num_threads(before)
    cv2.setNumThreads(cv_before)


@pytest.fixture
def rng():
    return np.random.default_rng(7)


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    """The EfficientNet-Lite0 demo model when tools/make_demo_model.py has built it,
    else a MobileNet v1-shaped network of similar cost with seeded weights."""
    if os.path.exists(DEMO_MODEL):
        return DEMO_MODEL
    return tiny_models.save(tiny_models.mobilenet_like(),
                            tmp_path_factory.mktemp("model") / "mobilenet-like.onnx")
