import cv2
import numpy as np
import pytest

import edgeinfer


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
